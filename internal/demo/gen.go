package demo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Per-unit records. Officers are referred to by their index in gen.offs,
// incidents and complaints by their index in gen.incs and gen.comps.
type (
	trainRow struct {
		off, day int32
		hours    int16 // -1 = blank (course default)
		course   uint8
		delivery uint8
	}
	forceEvent struct {
		off, month, lo, hi int32 // lo..hi: days the officer served that month
		trained, fatal     bool
	}
	incident struct {
		day, rowStart, rowN, seq int32
		beh, race, gender, age   uint8 // race and age 0 = blank; race is index+1
		mh, su, sw, reviewed     uint8 // tri-state
	}
	forceRow struct {
		off                  int32
		resp, weapon         uint8
		subjInj, offInj, dea uint8 // tri-state
	}
	complaintEvent struct{ off, month, lo, hi int32 }
	complaint      struct {
		day, rowStart, rowN, seq int32
		allegation               uint8
	}
	complaintRow struct {
		off     int32
		finding uint8
	}
	injury struct {
		off, day, inc, seq int32 // inc -1 = not linked
		sev                uint8
	}
	commendation struct {
		off, day, inc int32
		kind          uint8
	}
)

// unitOut is the CSV text of one unit, per file, and its row counts.
type unitOut struct {
	buf  [nFiles][]byte
	rows [nFiles]int
}

func (o *unitOut) reset() {
	for i := range o.buf {
		o.buf[i] = o.buf[i][:0]
		o.rows[i] = 0
	}
}

// gen generates one unit at a time; its slices are reused across units.
type gen struct {
	w          *world
	u          int
	pcgRoster  *rand.PCG
	pcgEvents  *rand.PCG
	rr, r      *rand.Rand
	allegNames []string
	allegW     []float64
	raceW      []float64
	offs       []officer
	sepHist    []int
	badges     []byte
	train      []trainRow
	calls      []int32
	fev        []forceEvent
	cev        []complaintEvent
	incs       []incident
	rows       []forceRow
	comps      []complaint
	crows      []complaintRow
	inj        []injury
	comm       []commendation
	bucket     []int32
	order      []int32
	used       []bool
	members    []int32
	seqYear    []int32
}

func newGen(w *world) *gen {
	g := &gen{w: w, pcgRoster: rand.NewPCG(0, 0), pcgEvents: rand.NewPCG(0, 0)}
	g.rr, g.r = rand.New(g.pcgRoster), rand.New(g.pcgEvents)
	g.allegNames, g.allegW = allegations()
	g.raceW = []float64{45, 18, 12, 7, 6, 5, 3, 4}
	return g
}

// run generates unit u and appends its rows to out.
func (g *gen) run(u int, out *unitOut) {
	w := g.w
	g.u = u
	g.pcgRoster.Seed(w.seeds(u, 0))
	g.offs, g.sepHist = w.roster(u, g.rr, g.offs[:0], g.sepHist)
	g.pcgEvents.Seed(w.seeds(u, 1))
	g.badges = g.badges[:0]
	for i := range g.offs {
		g.offs[i].index = w.unitBase[u] + i
		g.badges = appendPadded(g.badges, w.badge(g.offs[i].index), w.idWidth)
	}
	g.train, g.calls, g.fev, g.cev = g.train[:0], g.calls[:0], g.fev[:0], g.cev[:0]
	g.incs, g.rows, g.comps, g.crows = g.incs[:0], g.rows[:0], g.comps[:0], g.crows[:0]
	g.inj, g.comm = g.inj[:0], g.comm[:0]
	for i := range g.offs {
		g.officer(i)
	}
	g.incidents()
	g.complaints()
	g.emit(out)
}

// limit returns the last day officer i can have events: separation or End.
func (g *gen) limit(i int) int { return min(g.offs[i].sep, g.w.cal.end) }

// officer draws officer i's frailty, training history and month-by-month
// events.
func (g *gen) officer(i int) {
	w, r, c := g.w, g.r, &g.w.cal
	un := &w.units[g.u]
	o := &g.offs[i]
	frail := gamma(r, 2) / 2
	frailC := math.Sqrt(frail) * gamma(r, 4) / 4 / 0.94
	rf, rc, rcalls := rankMultipliers(o.rank)
	o.rForce = baseForce / 12 * un.force * frail * rf
	o.rComplaints = baseComplaints / 12 * un.complaints * frailC * rc
	o.rInjury = baseInjury / 12 * math.Sqrt(un.force*rf)
	o.callMu = un.callMean * rcalls * math.Exp(0.2*r.NormFloat64()-0.02)
	limit := g.limit(i)
	o.first, o.last = c.monthOf(max(o.hire, c.start)), c.monthOf(limit)
	g.training(i)

	eff := w.opt.Effect
	o.callsOff = len(g.calls)
	for m := o.first; m <= o.last; m++ {
		ms, me := c.monthStart[m], c.monthStart[m+1]-1
		lo, hi := max(ms, o.hire), min(me, limit)
		// Every month of service, partial or not, is one officer-month of
		// exposure in the contract (1/12 officer-year), so outcomes are drawn
		// at the full monthly rate; scaling partial months down would bias
		// any estimator that uses the contract's exposure.
		const f = 1.0
		tm := w.timeMult[m] * f
		trained := m >= o.trainedFrom
		lf, lc, li := o.rForce*tm, o.rComplaints*tm, o.rInjury*w.trendMult[m]*f
		ld, ll, lk := baseCommDeesc/12*f, baseCommLife/12*f, baseCommComm/12*f
		if trained {
			lf *= eff.Force
			lc *= eff.Complaints
			li *= eff.OfficerInjuries
			ld *= 1.5
		}
		// One uniform decides the common case of no event at all; given a
		// total of k events, their kinds split multinomially, which is the
		// same as independent Poisson counts per kind.
		total := lf + lc + li + ld + ll + lk
		u := r.Float64()
		p := math.Exp(-total)
		if u >= p {
			k, prob := 1, p*total
			for cum := p + prob; u >= cum && k < 64; cum += prob {
				k++
				prob *= total / float64(k)
			}
			for ; k > 0; k-- {
				v := r.Float64() * total
				day := int32(lo + r.IntN(hi-lo+1))
				switch {
				case v < lf:
					g.fev = append(g.fev, forceEvent{off: int32(i), month: int32(m), lo: int32(lo), hi: int32(hi), trained: trained})
				case v < lf+lc:
					g.cev = append(g.cev, complaintEvent{off: int32(i), month: int32(m), lo: int32(lo), hi: int32(hi)})
				case v < lf+lc+li:
					g.inj = append(g.inj, injury{off: int32(i), day: day, inc: -1, sev: drawSeverity(r)})
				case v < lf+lc+li+ld:
					g.comm = append(g.comm, commendation{off: int32(i), day: day, inc: -1, kind: kindDeescalation})
				case v < lf+lc+li+ld+ll:
					g.comm = append(g.comm, commendation{off: int32(i), day: day, inc: -1, kind: kindLifeSaving})
				default:
					g.comm = append(g.comm, commendation{off: int32(i), day: day, inc: -1, kind: kindCommunity})
				}
			}
		}
		if r.Float64() < 0.015 {
			g.calls = append(g.calls, -1)
		} else {
			g.calls = append(g.calls, int32(poisson(r, o.callMu*f)))
		}
	}
	if o.fatal {
		m := c.monthOf(o.sep)
		if r.Float64() < 0.7 {
			g.fev = append(g.fev, forceEvent{off: int32(i), month: int32(m), lo: int32(o.sep), hi: int32(o.sep), trained: m >= o.trainedFrom, fatal: true})
		} else {
			g.inj = append(g.inj, injury{off: int32(i), day: int32(o.sep), inc: -1, sev: sevFatal})
		}
	}
	for _, n := range []int{20, 25, 30, 35} {
		if d := addYears(o.hire, n); d >= c.start && d <= limit {
			g.comm = append(g.comm, commendation{off: int32(i), day: int32(d), inc: -1, kind: kindLongService})
		}
	}
}

// Recertification diligence of an officer.
const (
	diligent = iota
	sometimesLate
	oftenLate
	stopsRecertifying
)

// training appends officer i's completions, sorted by date, and sets the
// month from which the officer counts as ICAT-trained.
func (g *gen) training(i int) {
	w, r, c := g.w, g.r, &g.w.cal
	o := &g.offs[i]
	limit := g.limit(i)
	first := len(g.train)
	cls, stop := diligent, noSep
	switch u := r.Float64(); {
	case u < 0.04:
		cls, stop = stopsRecertifying, c.start+r.IntN(c.end-c.start+1)
	case u < 0.15:
		cls = oftenLate
	case u < 0.40:
		cls = sometimesLate
	}
	g.chain(i, cIMIM, cls, stop, limit)
	g.chain(i, cFirearms, cls, stop, limit)
	g.chain(i, cFirstAid, cls, stop, limit)
	if o.rank < rankInspector && r.Float64() < 0.65 {
		g.chain(i, cCEW, cls, stop, limit)
	}
	if o.rank <= rankSergeant && r.Float64() < w.units[g.u].cit {
		if lo := max(o.hire, c.start-6*365); lo <= limit {
			g.once(i, cCIT, lo+r.IntN(limit-lo+1), limit)
		}
	}
	if r.Float64() < 0.35 {
		lo := max(o.hire, c.monthStart[c.months/10])
		hi := min(limit, c.monthStart[c.months*35/100+1]-1)
		if lo <= hi {
			g.once(i, cPJ, lo+r.IntN(hi-lo+1), limit)
		}
	}
	o.trainedFrom = c.months
	if day := g.icatDay(i); day >= 0 {
		g.once(i, cICAT, day, limit)
		o.trainedFrom = c.monthOf(day)
	}
	rows := g.train[first:]
	slices.SortFunc(rows, func(a, b trainRow) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.course, b.course))
	})
}

// icatDay returns the day officer i completes ICAT, or -1 if not within the
// window: at the unit's wave (or up to two months later), later or never for
// officers who miss it, and within months of hire for later recruits.
func (g *gen) icatDay(i int) int {
	r, c := g.r, &g.w.cal
	o := &g.offs[i]
	wave := g.w.units[g.u].wave
	limit := g.limit(i)
	if wave < 0 {
		return -1
	}
	ws, we := c.monthStart[wave], c.monthStart[wave+1]-1
	var day int
	switch {
	case o.sep < ws:
		return -1
	case o.hire <= we:
		m := wave
		if r.Float64() < 0.07 {
			if r.Float64() < 0.5 {
				return -1
			}
			m += 4 + r.IntN(9)
		} else if u := r.Float64(); u >= 0.55 {
			m++
			if u >= 0.85 {
				m++
			}
		}
		if m >= c.months {
			return -1
		}
		day = c.monthStart[m] + r.IntN(c.monthStart[m+1]-c.monthStart[m])
		if day < o.hire {
			day = o.hire + 7 + r.IntN(40)
		}
	default:
		day = o.hire + 20 + r.IntN(100)
	}
	if day > limit {
		return -1
	}
	return toWeekday(day, o.hire, limit)
}

// chain appends officer i's completions of a recertified course: the last
// one before the window (or at hire), then one per cycle, with the
// lateness of the officer's diligence class, until separation, End or stop.
func (g *gen) chain(i, ci, cls, stop, limit int) {
	r, c := g.r, &g.w.cal
	o := &g.offs[i]
	interval := g.w.courses[ci].recertDays
	prev := o.hire + r.IntN(10)
	if o.hire < c.start {
		if p := c.start - 1 - r.IntN(interval*92/100); p >= o.hire {
			prev = p
		}
	}
	prev = toWeekday(prev, o.hire, limit)
	if prev > limit {
		return
	}
	g.addTrain(i, ci, prev)
	fi := float64(interval)
	for {
		var gap float64
		switch cls {
		case diligent:
			gap = fi * (0.90 + 0.09*r.Float64())
			if r.Float64() < 0.04 {
				gap += 10 + 50*r.Float64()
			}
		case oftenLate:
			gap = fi * (0.95 + 0.10*r.Float64())
			if r.Float64() < 0.45 {
				gap += 30 + 210*r.Float64()
			}
		default:
			gap = fi * (0.90 + 0.12*r.Float64())
			if r.Float64() < 0.18 {
				gap += 15 + 85*r.Float64()
			}
		}
		next := prev + int(gap)
		if next > limit || next > stop {
			return
		}
		next = toWeekday(next, prev+1, limit)
		g.addTrain(i, ci, next)
		prev = next
	}
}

// once appends a one-off completion moved to a weekday.
func (g *gen) once(i, ci, day, limit int) {
	g.addTrain(i, ci, toWeekday(day, g.offs[i].hire, limit))
}

// addTrain appends a completion: most rows leave hours blank (course
// default); some state them, sometimes differing from the default.
func (g *gen) addTrain(i, ci, day int) {
	r := g.r
	cr := &g.w.courses[ci]
	t := trainRow{off: int32(i), day: int32(day), hours: -1, course: uint8(ci)}
	if r.Float64() < 0.2 {
		t.hours = int16(cr.hours)
		if r.Float64() < 0.4 {
			t.hours = int16(max(1, int(math.Round(float64(cr.hours)*(0.5+0.75*r.Float64())))))
		}
	}
	if r.Float64() >= 0.03 {
		t.delivery = uint8(deliveryInPerson + pick(r, cr.delivery[:]))
	}
	g.train = append(g.train, t)
}

// bucketByMonth fills g.order with the indices 0..n-1 grouped by month and
// returns the start of each month's group (len months+1).
func (g *gen) bucketByMonth(n int, month func(int) int32) []int32 {
	months := g.w.cal.months
	g.bucket = slices.Grow(g.bucket[:0], months+1)[:months+1]
	clear(g.bucket)
	for k := range n {
		g.bucket[month(k)+1]++
	}
	for m := 1; m <= months; m++ {
		g.bucket[m] += g.bucket[m-1]
	}
	g.order = slices.Grow(g.order[:0], n)[:n]
	next := slices.Clone(g.bucket[:months])
	for k := range n {
		m := month(k)
		g.order[next[m]] = int32(k)
		next[m]++
	}
	g.used = slices.Grow(g.used[:0], n)[:n]
	clear(g.used)
	return g.bucket
}

// group collects, from the shuffled events seg of one month starting at a,
// the lead event and up to extra more events of other officers whose days
// overlap; it returns the members and the common day range.
func (g *gen) group(seg []int32, a, extra int, span func(int32) (off, lo, hi int32)) ([]int32, int, int) {
	g.members = append(g.members[:0], seg[a])
	g.used[seg[a]] = true
	_, lo, hi := span(seg[a])
	for b := a + 1; b < len(seg) && b <= a+16 && extra > 0; b++ {
		e := seg[b]
		off, elo, ehi := span(e)
		if g.used[e] || elo > hi || ehi < lo || slices.ContainsFunc(g.members, func(m int32) bool {
			o, _, _ := span(m)
			return o == off
		}) {
			continue
		}
		g.members = append(g.members, e)
		g.used[e] = true
		lo, hi = max(lo, elo), min(hi, ehi)
		extra--
	}
	return g.members, int(lo), int(hi)
}

// incidents turns the unit's force events into incidents: most involve one
// officer, some bring together two or three officers of the unit on the same
// day. Each officer keeps exactly the events drawn for them, so per-officer
// counts stay Poisson with the officer's own (trained or untrained) rate.
func (g *gen) incidents() {
	w, r, c := g.w, g.r, &g.w.cal
	eff := w.opt.Effect
	un := &w.units[g.u]
	bucket := g.bucketByMonth(len(g.fev), func(k int) int32 { return g.fev[k].month })
	span := func(k int32) (int32, int32, int32) { e := &g.fev[k]; return e.off, e.lo, e.hi }
	behW := []float64{0.05, 0.20, 0.45, 0.27, 0.03}
	for m := range c.months {
		seg := g.order[bucket[m]:bucket[m+1]]
		r.Shuffle(len(seg), func(a, b int) { seg[a], seg[b] = seg[b], seg[a] })
		for a := range seg {
			if g.used[seg[a]] {
				continue
			}
			extra := 0
			if r.Float64() < 0.15 {
				extra = 1
				if r.Float64() < 0.25 {
					extra = 2
				}
			}
			members, lo, hi := g.group(seg, a, extra, span)
			day := lo + r.IntN(hi-lo+1)
			inc := incident{day: int32(day), rowStart: int32(len(g.rows)), rowN: int32(len(members))}
			inc.beh = uint8(pick(r, behW))
			if r.Float64() >= 0.09 {
				inc.race = uint8(1 + pick(r, g.raceW))
			}
			switch v := r.Float64(); {
			case v < 0.81:
				inc.gender = genderMale
			case v < 0.98:
				inc.gender = genderFemale
			case v < 0.985:
				inc.gender = genderOther
			}
			if r.Float64() >= 0.07 {
				inc.age = uint8(min(80, max(14, int(math.Round(16+6*gamma(r, 3))))))
			}
			inc.mh = blankOr(r, 0.05, 0.25)
			inc.su = blankOr(r, 0.12, 0.42)
			inc.sw = blankOr(r, 0.03, subjectWeaponP(inc.beh))
			review := un.review
			if c.end-day < 60 {
				review *= 0.4
			}
			inc.reviewed = tri(r.Float64() < review)
			ii := int32(len(g.incs))
			for _, k := range members {
				e := &g.fev[k]
				row := forceRow{off: e.off, resp: uint8(pick(r, responseWeights(inc.beh)))}
				row.weapon = drawWeapon(r, row.resp)
				sSI, sOI, dea := 1.0, 1.0, 0.42
				if e.trained {
					sSI, sOI, dea = eff.SubjectInjuries/eff.Force, eff.OfficerInjuries/eff.Force, 0.70
				}
				if inc.beh == behGrievous {
					dea *= 0.6
				}
				row.subjInj = blankOr(r, 0.02, min(0.95, subjectInjuryP(row.resp)*sSI))
				row.offInj = tri(e.fatal || r.Float64() < min(0.9, officerInjuryP(inc.beh)*sOI))
				row.dea = blankOr(r, 0.04, dea)
				g.rows = append(g.rows, row)
				if row.offInj == triTrue {
					sev := uint8(sevFatal)
					if !e.fatal {
						sev = drawSeverity(r)
					}
					g.inj = append(g.inj, injury{off: e.off, day: int32(day), inc: ii, sev: sev})
				}
				award := func(kind uint8) {
					d := min(day+14+r.IntN(150), g.limit(int(e.off)))
					g.comm = append(g.comm, commendation{off: e.off, day: int32(d), inc: ii, kind: kind})
				}
				if row.dea == triTrue && row.resp <= respSoft && row.subjInj != triTrue && r.Float64() < 0.10 {
					award(kindDeescalation)
				}
				if inc.beh >= behAssaultive && r.Float64() < 0.03 {
					award(kindBravery)
				}
				if inc.mh == triTrue && r.Float64() < 0.01 {
					award(kindLifeSaving)
				}
			}
			g.incs = append(g.incs, inc)
		}
	}
}

// blankOr returns blank with probability pBlank, else true with probability p.
func blankOr(r *rand.Rand, pBlank, p float64) uint8 {
	if r.Float64() < pBlank {
		return triBlank
	}
	return tri(r.Float64() < p)
}

// complaints turns complaint events into complaints; a few name two
// officers. Findings are mostly resolved, pending mostly in recent months.
func (g *gen) complaints() {
	r, c := g.r, &g.w.cal
	bucket := g.bucketByMonth(len(g.cev), func(k int) int32 { return g.cev[k].month })
	span := func(k int32) (int32, int32, int32) { e := &g.cev[k]; return e.off, e.lo, e.hi }
	findW := []float64{0.15, 0.27, 0.33, 0.25}
	for m := range c.months {
		seg := g.order[bucket[m]:bucket[m+1]]
		r.Shuffle(len(seg), func(a, b int) { seg[a], seg[b] = seg[b], seg[a] })
		for a := range seg {
			if g.used[seg[a]] {
				continue
			}
			extra := 0
			if r.Float64() < 0.07 {
				extra = 1
			}
			members, lo, hi := g.group(seg, a, extra, span)
			day := lo + r.IntN(hi-lo+1)
			cp := complaint{day: int32(day), rowStart: int32(len(g.crows)), rowN: int32(len(members)), allegation: uint8(pick(r, g.allegW))}
			pending := 0.9*math.Exp(-float64(c.end-day)/100) + 0.008
			for _, k := range members {
				row := complaintRow{off: g.cev[k].off, finding: findPending}
				if r.Float64() >= pending {
					row.finding = uint8(pick(r, findW))
				}
				g.crows = append(g.crows, row)
			}
			g.comps = append(g.comps, cp)
		}
	}
}
