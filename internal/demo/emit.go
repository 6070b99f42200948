package demo

import (
	"cmp"
	"slices"
)

// Files, in the order Write lists them.
const (
	fileOfficers = iota
	fileCourses
	fileTraining
	fileActivity
	fileForce
	fileComplaints
	fileInjuries
	fileCommendations
	nFiles
)

// fileSpec returns the name and header line of file f.
func fileSpec(f int) (name, header string) {
	switch f {
	case fileOfficers:
		return OfficersFile, "officer_id,unit,division,rank,hire_date,separation_date,gender"
	case fileCourses:
		return CoursesFile, "course_id,title,category,hours,recert_days,mandatory"
	case fileTraining:
		return TrainingFile, "officer_id,course_id,completed_on,hours,delivery"
	case fileActivity:
		return ActivityFile, "officer_id,month,calls_for_service"
	case fileForce:
		return ForceFile, "incident_id,officer_id,occurred_on,unit,subject_behaviour,response,weapon,subject_injured,officer_injured,mental_health_crisis,substance_use,subject_weapon,de_escalation_attempted,reviewed,subject_race,subject_gender,subject_age"
	case fileComplaints:
		return ComplaintsFile, "complaint_id,officer_id,received_on,allegation,finding"
	case fileInjuries:
		return InjuriesFile, "injury_id,officer_id,occurred_on,incident_id,severity"
	}
	return CommendationsFile, "officer_id,awarded_on,kind,incident_id"
}

// coursesCSV returns the body of courses.csv and its number of rows.
func coursesCSV(courses []course) ([]byte, int) {
	var b []byte
	for _, c := range courses {
		b = appendText(b, c.id)
		b = append(b, ',')
		b = appendText(b, c.title)
		b = append(b, ',')
		b = appendText(b, c.category)
		b = append(b, ',')
		b = appendInt(b, c.hours)
		b = append(b, ',')
		if c.recertDays > 0 {
			b = appendInt(b, c.recertDays)
		}
		b = append(b, ',')
		b = appendTri(b, tri(c.mandatory))
		b = append(b, '\n')
	}
	return b, len(courses)
}

// badge appends the badge number of officer i of the current unit.
func (g *gen) badge(b []byte, i int32) []byte {
	wd := g.w.idWidth
	return append(b, g.badges[int(i)*wd:int(i+1)*wd]...)
}

// appendRecordID appends an ID like UF2024-007-0042: prefix, year, unit code
// and a sequence number per unit and year in date order.
func (g *gen) appendRecordID(b []byte, prefix string, day, seq int32) []byte {
	b = append(b, prefix...)
	b = appendPadded(b, uint64(g.w.cal.yearOf(int(day))), 4)
	b = append(b, '-')
	b = append(b, g.w.units[g.u].code...)
	b = append(b, '-')
	return appendPadded(b, uint64(seq), 4)
}

// numberByDate sorts idx by day (stable on index) and gives each record a
// sequence number per calendar year, starting at 1.
func (g *gen) numberByDate(idx []int32, day func(int32) int32, setSeq func(int32, int32)) {
	slices.SortFunc(idx, func(a, b int32) int {
		return cmp.Or(cmp.Compare(day(a), day(b)), cmp.Compare(a, b))
	})
	c := &g.w.cal
	g.seqYear = slices.Grow(g.seqYear[:0], g.w.opt.Years+1)[:g.w.opt.Years+1]
	clear(g.seqYear)
	for _, k := range idx {
		y := c.yearOf(int(day(k))) - c.firstYear
		g.seqYear[y]++
		setSeq(k, g.seqYear[y])
	}
}

// emit appends the unit's rows to out.
func (g *gen) emit(out *unitOut) {
	w, c := g.w, &g.w.cal
	un := &w.units[g.u]

	b := out.buf[fileOfficers]
	for i := range g.offs {
		o := &g.offs[i]
		b = g.badge(b, int32(i))
		b = append(b, ',')
		b = append(b, un.name...)
		b = append(b, ',')
		b = append(b, un.division...)
		b = append(b, ',')
		b = append(b, rankName(o.rank)...)
		b = append(b, ',')
		b = c.appendDate(b, o.hire)
		b = append(b, ',')
		if o.sep != noSep {
			b = c.appendDate(b, o.sep)
		}
		b = append(b, ',')
		b = append(b, genderName(o.gender)...)
		b = append(b, '\n')
	}
	out.buf[fileOfficers], out.rows[fileOfficers] = b, len(g.offs)

	b = out.buf[fileTraining]
	for _, t := range g.train {
		b = g.badge(b, t.off)
		b = append(b, ',')
		b = append(b, w.courses[t.course].id...)
		b = append(b, ',')
		b = c.appendDate(b, int(t.day))
		b = append(b, ',')
		if t.hours >= 0 {
			b = appendInt(b, int(t.hours))
		}
		b = append(b, ',')
		b = append(b, deliveryName(t.delivery)...)
		b = append(b, '\n')
	}
	out.buf[fileTraining], out.rows[fileTraining] = b, len(g.train)

	b = out.buf[fileActivity]
	for i := range g.offs {
		o := &g.offs[i]
		for m := o.first; m <= o.last; m++ {
			b = g.badge(b, int32(i))
			b = append(b, ',')
			b = append(b, c.monthText[7*m:7*m+7]...)
			b = append(b, ',')
			if v := g.calls[o.callsOff+m-o.first]; v >= 0 {
				b = appendInt(b, int(v))
			}
			b = append(b, '\n')
		}
	}
	out.buf[fileActivity], out.rows[fileActivity] = b, len(g.calls)

	// Force: incidents in date order, numbered per year.
	g.order = slices.Grow(g.order[:0], len(g.incs))[:len(g.incs)]
	for k := range g.order {
		g.order[k] = int32(k)
	}
	g.numberByDate(g.order, func(k int32) int32 { return g.incs[k].day }, func(k, s int32) { g.incs[k].seq = s })
	behs, resps, weapons, races := SubjectBehaviours(), Responses(), Weapons(), SubjectRaces()
	b = out.buf[fileForce]
	for _, k := range g.order {
		inc := &g.incs[k]
		for _, row := range g.rows[inc.rowStart : inc.rowStart+inc.rowN] {
			b = g.appendRecordID(b, "UF", inc.day, inc.seq)
			b = append(b, ',')
			b = g.badge(b, row.off)
			b = append(b, ',')
			b = c.appendDate(b, int(inc.day))
			b = append(b, ',')
			b = append(b, un.name...)
			b = append(b, ',')
			b = append(b, behs[inc.beh]...)
			b = append(b, ',')
			b = append(b, resps[row.resp]...)
			b = append(b, ',')
			b = append(b, weapons[row.weapon]...)
			b = append(b, ',')
			b = appendTri(b, row.subjInj)
			b = append(b, ',')
			b = appendTri(b, row.offInj)
			b = append(b, ',')
			b = appendTri(b, inc.mh)
			b = append(b, ',')
			b = appendTri(b, inc.su)
			b = append(b, ',')
			b = appendTri(b, inc.sw)
			b = append(b, ',')
			b = appendTri(b, row.dea)
			b = append(b, ',')
			b = appendTri(b, inc.reviewed)
			b = append(b, ',')
			if inc.race > 0 {
				b = append(b, races[inc.race-1]...)
			}
			b = append(b, ',')
			b = append(b, genderName(inc.gender)...)
			b = append(b, ',')
			if inc.age > 0 {
				b = appendInt(b, int(inc.age))
			}
			b = append(b, '\n')
		}
	}
	out.buf[fileForce], out.rows[fileForce] = b, len(g.rows)

	g.order = slices.Grow(g.order[:0], len(g.comps))[:len(g.comps)]
	for k := range g.order {
		g.order[k] = int32(k)
	}
	g.numberByDate(g.order, func(k int32) int32 { return g.comps[k].day }, func(k, s int32) { g.comps[k].seq = s })
	findings := Findings()
	b = out.buf[fileComplaints]
	for _, k := range g.order {
		cp := &g.comps[k]
		for _, row := range g.crows[cp.rowStart : cp.rowStart+cp.rowN] {
			b = g.appendRecordID(b, "PSC", cp.day, cp.seq)
			b = append(b, ',')
			b = g.badge(b, row.off)
			b = append(b, ',')
			b = c.appendDate(b, int(cp.day))
			b = append(b, ',')
			b = appendText(b, g.allegNames[cp.allegation])
			b = append(b, ',')
			b = append(b, findings[row.finding]...)
			b = append(b, '\n')
		}
	}
	out.buf[fileComplaints], out.rows[fileComplaints] = b, len(g.crows)

	g.order = slices.Grow(g.order[:0], len(g.inj))[:len(g.inj)]
	for k := range g.order {
		g.order[k] = int32(k)
	}
	g.numberByDate(g.order, func(k int32) int32 { return g.inj[k].day }, func(k, s int32) { g.inj[k].seq = s })
	sevs := Severities()
	b = out.buf[fileInjuries]
	for _, k := range g.order {
		in := &g.inj[k]
		b = g.appendRecordID(b, "INJ", in.day, in.seq)
		b = append(b, ',')
		b = g.badge(b, in.off)
		b = append(b, ',')
		b = c.appendDate(b, int(in.day))
		b = append(b, ',')
		if in.inc >= 0 {
			inc := &g.incs[in.inc]
			b = g.appendRecordID(b, "UF", inc.day, inc.seq)
		}
		b = append(b, ',')
		b = append(b, sevs[in.sev]...)
		b = append(b, '\n')
	}
	out.buf[fileInjuries], out.rows[fileInjuries] = b, len(g.inj)

	// Commendations by officer and date; (officer, day, kind) is kept unique.
	slices.SortFunc(g.comm, func(a, b commendation) int {
		return cmp.Or(cmp.Compare(a.off, b.off), cmp.Compare(a.day, b.day), cmp.Compare(a.kind, b.kind), cmp.Compare(a.inc, b.inc))
	})
	g.comm = slices.CompactFunc(g.comm, func(a, b commendation) bool {
		return a.off == b.off && a.day == b.day && a.kind == b.kind
	})
	kinds := CommendationKinds()
	b = out.buf[fileCommendations]
	for _, cm := range g.comm {
		b = g.badge(b, cm.off)
		b = append(b, ',')
		b = c.appendDate(b, int(cm.day))
		b = append(b, ',')
		b = append(b, kinds[cm.kind]...)
		b = append(b, ',')
		if cm.inc >= 0 {
			inc := &g.incs[cm.inc]
			b = g.appendRecordID(b, "UF", inc.day, inc.seq)
		}
		b = append(b, '\n')
	}
	out.buf[fileCommendations], out.rows[fileCommendations] = b, len(g.comm)
}
