package demo

import (
	"math"
	"math/rand/v2"
)

const noSep = math.MaxInt32 // separation day of an officer still in service at End

// officer is one officer of the unit being generated.
type officer struct {
	index       int // global index, source of the badge number
	hire, sep   int // days; sep == noSep when still serving at End
	fatal       bool
	rank        uint8
	gender      uint8
	first, last int // window months in service
	trainedFrom int // window month of ICAT completion; months if never
	rForce      float64
	rComplaints float64
	rInjury     float64
	callMu      float64
	callsOff    int // offset of the officer's months in gen.calls
}

// Separation hazard (per year) by tenure: early attrition, a long stable
// career, then retirement.
func hazardBounds() [5]float64 { return [5]float64{2, 25, 30, 35, math.Inf(1)} }
func hazardRates() [5]float64  { return [5]float64{0.07, 0.025, 0.15, 0.3, 0.6} }

// cumHazard returns the cumulative separation hazard at tenure t years.
func cumHazard(t float64) float64 {
	bounds, rates := hazardBounds(), hazardRates()
	h, lo := 0.0, 0.0
	for k, b := range bounds {
		if t <= b {
			return h + rates[k]*(t-lo)
		}
		h += rates[k] * (b - lo)
		lo = b
	}
	return h
}

// sepTenure draws the tenure in years at which an officer with tenure t0
// separates.
func sepTenure(r *rand.Rand, t0 float64) float64 {
	bounds, rates := hazardBounds(), hazardRates()
	t := t0
	for k, b := range bounds {
		if t >= b {
			continue
		}
		if e := t + r.ExpFloat64()/rates[k]; e < b {
			return e
		}
		t = b
	}
	return t
}

// stationaryTenure draws the tenure of an officer in service at the window
// start for a service that has grown steadily under the hazard above.
func stationaryTenure(r *rand.Rand, maxTenure float64) float64 {
	for {
		t := r.Float64() * maxTenure
		if r.Float64() < math.Exp(-cumHazard(t)-t*math.Log(growthPerYear)) {
			return t
		}
	}
}

// drawRank returns a rank consistent with tenure in years.
func drawRank(r *rand.Rand, tenure float64) uint8 {
	u := r.Float64()
	switch {
	case tenure < 5:
		return rankConstable
	case tenure < 12:
		if u < 0.12 {
			return rankSergeant
		}
	case tenure < 20:
		switch {
		case u < 0.01:
			return rankInspector
		case u < 0.07:
			return rankStaffSergeant
		case u < 0.29:
			return rankSergeant
		}
	default:
		switch {
		case u < 0.05:
			return rankInspector
		case u < 0.17:
			return rankStaffSergeant
		case u < 0.42:
			return rankSergeant
		}
	}
	return rankConstable
}

// roster appends the officers of unit u to offs and returns it: those in
// service at the window start, then recruit classes that keep the unit at
// its (slowly growing) target headcount. It uses only r, so it can be rerun
// to count officers before generating events.
func (w *world) roster(u int, r *rand.Rand, offs []officer, sepHist []int) ([]officer, []int) {
	c := &w.cal
	M := c.months
	size := w.units[u].size
	target := func(m int) float64 { return size * math.Pow(growthPerYear, float64(m-M)/12) }
	sepHist = sepHist[:0]
	for range M + 1 {
		sepHist = append(sepHist, 0)
	}
	add := func(hire int, t0 float64) {
		ts := sepTenure(r, t0)
		sep := hire + int(ts*daysPerYear)
		if sep < c.start {
			sep = c.start
		}
		if sep > c.end {
			sep = noSep
		} else {
			sepHist[c.monthOf(sep)]++
		}
		offs = append(offs, officer{hire: hire, sep: sep})
	}
	maxTenure := min(40, float64(c.start-c.minDay)/daysPerYear)
	n0 := max(1, int(math.Round(target(0))))
	for range n0 {
		t0 := stationaryTenure(r, maxTenure)
		add(toWeekday(max(c.minDay, c.start-int(t0*daysPerYear)), c.minDay, c.start), t0)
	}
	hired, seps, next := 0, 0, 0
	for ci, day := range w.classDay {
		cm := w.classMonth[ci]
		for ; next < cm; next++ {
			seps += sepHist[next]
		}
		want := target(min(cm+4, M)) * (1 + 0.06*4/12)
		for n := int(math.Round(want - float64(n0+hired-seps))); n > 0; n-- {
			add(day, 0)
			hired++
		}
	}
	for i := range offs {
		o := &offs[i]
		from, to := max(o.hire, c.start), min(o.sep, c.end)
		if r.Float64() < fatalPerYear*float64(to-from+1)/daysPerYear {
			o.sep, o.fatal = from+r.IntN(to-from+1), true
		}
		o.rank = drawRank(r, float64(min(o.sep, c.end)-o.hire)/daysPerYear)
		switch g := r.Float64(); {
		case g < 0.235:
			o.gender = genderFemale
		case g < 0.995:
			o.gender = genderMale
		default:
			o.gender = genderBlank
		}
	}
	return offs, sepHist
}
