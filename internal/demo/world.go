package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// Rates and shares that shape the dataset. Rates are per officer-year for a
// constable in an average unit before trend and training.
const (
	baseForce      = 0.30
	baseComplaints = 0.30
	baseInjury     = 0.015 // officer injuries not linked to a force incident
	baseCommDeesc  = 0.008
	baseCommLife   = 0.004
	baseCommComm   = 0.02
	fatalPerYear   = 1e-5 // line-of-duty deaths per officer-year
	growthPerYear  = 1.015
	daysPerYear    = 365.25
	neverShare     = 0.10 // units never reached by the roll-out
)

// calendar maps the window onto day and month numbers and holds the
// preformatted date and month texts.
type calendar struct {
	start, end int // first and last day of the window
	months     int
	monthStart []int // len months+1; monthStart[months] == end+1
	monthCal   []int // calendar month 1–12 of each window month
	monthYear  []int
	monthText  []byte // "YYYY-MM", 7 bytes per window month
	dayMonth   []int32
	firstYear  int
	minDay     int    // 1950-01-01
	dateText   []byte // "YYYY-MM-DD", 10 bytes per day from minDay to end
}

// newCalendar returns the calendar of the window of valid options o.
func newCalendar(o Options) calendar {
	y, mo, d := o.End.Date()
	var c calendar
	c.end = daysFromCivil(y, int(mo), d)
	s := o.Start()
	c.start = daysFromCivil(s.Year(), int(s.Month()), 1)
	c.firstYear = s.Year()
	c.months = 12 * o.Years
	c.monthStart = make([]int, c.months+1)
	c.monthCal = make([]int, c.months)
	c.monthYear = make([]int, c.months)
	yy, mm := s.Year(), int(s.Month())
	for m := 0; m < c.months; m++ {
		c.monthStart[m] = daysFromCivil(yy, mm, 1)
		c.monthCal[m], c.monthYear[m] = mm, yy
		c.monthText = appendPadded(c.monthText, uint64(yy), 4)
		c.monthText = append(c.monthText, '-')
		c.monthText = appendPadded(c.monthText, uint64(mm), 2)
		if mm++; mm > 12 {
			mm, yy = 1, yy+1
		}
	}
	c.monthStart[c.months] = c.end + 1
	c.dayMonth = make([]int32, c.end-c.start+1)
	for m := 0; m < c.months; m++ {
		for day := c.monthStart[m]; day < c.monthStart[m+1]; day++ {
			c.dayMonth[day-c.start] = int32(m)
		}
	}
	c.minDay = daysFromCivil(1950, 1, 1)
	c.dateText = make([]byte, 0, 10*(c.end-c.minDay+1))
	for day := c.minDay; day <= c.end; day++ {
		y, m, d := civilFromDays(day)
		c.dateText = appendPadded(c.dateText, uint64(y), 4)
		c.dateText = append(c.dateText, '-')
		c.dateText = appendPadded(c.dateText, uint64(m), 2)
		c.dateText = append(c.dateText, '-')
		c.dateText = appendPadded(c.dateText, uint64(d), 2)
	}
	return c
}

// appendDate appends day as YYYY-MM-DD; day must lie in [minDay, end].
func (c *calendar) appendDate(b []byte, day int) []byte {
	i := 10 * (day - c.minDay)
	return append(b, c.dateText[i:i+10]...)
}

// monthOf returns the window month of a day inside the window.
func (c *calendar) monthOf(day int) int { return int(c.dayMonth[day-c.start]) }

// yearOf returns the calendar year of a day inside the window.
func (c *calendar) yearOf(day int) int { return c.monthYear[c.monthOf(day)] }

// unit is one unit of the service and everything drawn for it up front.
type unit struct {
	name, division string
	code           []byte  // zero-padded number used inside incident IDs
	size           float64 // headcount target at the end of the window
	force          float64 // multiplier of force and injury rates
	complaints     float64 // multiplier of complaint rates
	callMean       float64 // calls for service per constable-month
	review         float64 // share of force incidents reviewed
	cit            float64 // share of officers who volunteer for CIT
	wave           int     // window month of the ICAT session; -1 = never
}

// world is everything shared by all units: calendar, units, hiring classes,
// time multipliers and the badge-number scramble.
type world struct {
	opt        Options
	cal        calendar
	courses    []course
	units      []unit
	classDay   []int // recruit class (hire) days inside the window
	classMonth []int
	timeMult   []float64 // trend × season per window month
	trendMult  []float64 // trend per window month
	unitBase   []int     // global index of each unit's first officer
	idWidth    int       // digits of a badge number
	idMod      uint64    // badge numbers lie in [0, idMod)
	idBits     uint      // bits of the permutation domain, 2^idBits ≥ idMod
	idKey      uint64
}

// mix64 is SplitMix64's finaliser; it turns (seed, stream) pairs into
// well-spread PCG seeds.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// seeds returns the PCG seed pair of stream k of unit u.
func (w *world) seeds(u, k int) (uint64, uint64) {
	a := mix64(w.opt.Seed ^ mix64(uint64(u)<<3|uint64(k)))
	return a, mix64(a ^ 0x6a09e667f3bcc909)
}

// newWorld draws everything shared by the units of valid options o: units
// and divisions, roll-out waves, recruit classes (three a year, on a Monday)
// and the trend and season of each month (rates peak in July, ±12 %).
func newWorld(o Options) *world {
	w := &world{opt: o, cal: newCalendar(o), courses: catalogue()}
	r := rand.New(rand.NewPCG(mix64(o.Seed), mix64(o.Seed^0x5eed)))
	w.buildUnits(r)
	w.buildWaves(r)
	c := &w.cal
	for m := 0; m < c.months; m++ {
		if cm := c.monthCal[m]; cm == 2 || cm == 6 || cm == 10 {
			day := c.monthStart[m] + 6 + r.IntN(10)
			for weekday(day) != 1 {
				day++
			}
			w.classDay = append(w.classDay, day)
			w.classMonth = append(w.classMonth, m)
		}
	}
	w.timeMult = make([]float64, c.months)
	w.trendMult = make([]float64, c.months)
	for m := range w.timeMult {
		w.trendMult[m] = math.Pow(o.Trend, (float64(m)+0.5)/12)
		season := 1 + 0.12*math.Cos(2*math.Pi*float64(c.monthCal[m]-7)/12)
		w.timeMult[m] = w.trendMult[m] * season
	}
	w.idKey = r.Uint64()
	return w
}

// buildUnits draws divisions and units: sizes, kinds, rates and names.
func (w *world) buildUnits(r *rand.Rand) {
	n := float64(w.opt.Officers)
	meanSize := 40 + 85*math.Min(1, n/2000)
	nUnits := max(4, int(math.Round(n/meanSize)))
	nDiv := max(1, int(math.Round(math.Sqrt(float64(nUnits)))))
	perDiv := make([]int, nDiv)
	for i := range nUnits {
		perDiv[i%nDiv]++
	}
	for range nDiv / 2 {
		a, b := r.IntN(nDiv), r.IntN(nDiv)
		if a != b && perDiv[a] > 3 {
			perDiv[a]--
			perDiv[b]++
		}
	}
	types := unitTypes()
	codeWidth := max(3, len(strconv.Itoa(nUnits)))
	sizes := make([]float64, 0, nUnits)
	total := 0.0
	for d := range nDiv {
		div := "D" + strconv.Itoa(d+1)
		for k := range perDiv[d] {
			t, name := unitSlot(k)
			ty := types[t]
			size := math.Exp(0.4 * r.NormFloat64())
			if t != 0 {
				size *= 0.5
			}
			calls := ty.callsLo + (ty.callsHi-ty.callsLo)*r.Float64()
			u := unit{
				name:       div + " " + name,
				division:   div,
				code:       appendPadded(nil, uint64(len(w.units)+1), codeWidth),
				force:      ty.force * math.Sqrt(calls/40) * math.Exp(0.25*r.NormFloat64()-0.03),
				complaints: ty.complaints * math.Exp(0.25*r.NormFloat64()-0.03),
				callMean:   calls,
				review:     min(0.97, max(0.6, 0.70+0.25*r.Float64()+ty.reviewBias)),
				cit:        ty.citShare,
				wave:       -1,
			}
			w.units = append(w.units, u)
			sizes = append(sizes, size)
			total += size
		}
	}
	for i := range w.units {
		w.units[i].size = max(3, n*sizes[i]/total)
	}
}

// buildWaves assigns units, in an order independent of their rates, to the
// staggered ICAT waves, leaving about a tenth never reached.
func (w *world) buildWaves(r *rand.Rand) {
	M := w.cal.months
	perm := r.Perm(len(w.units))
	never := int(math.Round(neverShare * float64(len(w.units))))
	if never == 0 && len(w.units) >= 4 {
		never = 1
	}
	treated := perm[never:]
	first := int(math.Round(0.4 * float64(M)))
	span := M - 3 - first
	waves := min(8, max(4, len(treated)/2), len(treated))
	spacing := 6
	if waves > 1 {
		spacing = min(6, span/(waves-1))
		if spacing < 1 {
			waves, spacing = span+1, 1
		}
	}
	for i, u := range treated {
		w.units[u].wave = first + (i%waves)*spacing
	}
}

// unitSlot returns the kind (index into unitTypes) and name of the k-th unit
// of a division: patrol first, then traffic, community response, more
// patrol and street crime; large divisions repeat the pattern with numbered
// names ("Patrol North 2").
func unitSlot(k int) (int, string) {
	kinds := [8]int{0, 0, 1, 2, 0, 0, 3, 0}
	names := [8]string{"Patrol North", "Patrol South", "Traffic", "Community Response", "Patrol East", "Patrol West", "Street Crime", "Patrol Central"}
	kind, name := kinds[k%8], names[k%8]
	if k >= 8 {
		name += " " + strconv.Itoa(k/8+1)
	}
	return kind, name
}

// badge returns the badge number of officer index i: a keyed pseudo-random
// permutation of [0, idMod), found by cycle-walking an invertible mix of
// idBits-bit integers, so badges are unique and carry no order.
func (w *world) badge(i int) uint64 {
	mask := uint64(1)<<w.idBits - 1
	x := uint64(i)
	for {
		for round := range uint64(3) {
			x = (x*0x9e3779b97f4a7c15 + w.idKey>>(round*8)) & mask
			x ^= x >> (w.idBits/2 + 1)
			x = (x * 0xbf58476d1ce4e5b9) & mask
			x ^= (w.idKey >> (round * 16)) & mask
		}
		if x < w.idMod {
			return x
		}
	}
}

// setOfficers fixes the number of officers and the badge format once the
// rosters are known: badges lie below a power of ten at least four times the
// number of officers and are printed with one digit more, so they all carry
// a leading zero and nobody mistakes them for numbers.
func (w *world) setOfficers(unitCounts []int) {
	w.unitBase = make([]int, len(unitCounts))
	total := 0
	for u, n := range unitCounts {
		w.unitBase[u] = total
		total += n
	}
	w.idMod, w.idWidth = 10, 2
	for w.idMod < 4*uint64(total) {
		w.idMod *= 10
		w.idWidth++
	}
	w.idWidth = max(6, w.idWidth)
	w.idBits = 1
	for uint64(1)<<w.idBits < w.idMod {
		w.idBits++
	}
}
