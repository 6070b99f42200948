package demo

// Dates are handled as day numbers (days since 1970-01-01 in the proleptic
// Gregorian calendar) so that the hot loops never touch time.Time.

// daysFromCivil returns the day number of year y, month m (1–12), day d.
// It is exact for years ≥ 0.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays returns the year, month (1–12) and day of day number z.
// It is exact for dates from year 0 on.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekday returns 0 for Sunday through 6 for Saturday.
func weekday(day int) int {
	return ((day+4)%7 + 7) % 7
}

// toWeekday moves a Saturday or Sunday to the nearest weekday inside
// [lo, hi] and returns day unchanged when neither neighbour fits.
func toWeekday(day, lo, hi int) int {
	switch weekday(day) {
	case 6:
		if day-1 >= lo {
			return day - 1
		}
		if day+2 <= hi {
			return day + 2
		}
	case 0:
		if day+1 <= hi {
			return day + 1
		}
		if day-2 >= lo {
			return day - 2
		}
	}
	return day
}

// addYears returns the day number of the same calendar date n years after
// day; 29 February maps to 1 March in common years.
func addYears(day, n int) int {
	y, m, d := civilFromDays(day)
	if m == 2 && d == 29 {
		m, d = 3, 1
	}
	return daysFromCivil(y+n, m, d)
}
