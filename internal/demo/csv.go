package demo

import "strconv"

// appendText appends s as one CSV field, quoted per RFC 4180 only when it
// holds a comma, a double quote or a line break.
func appendText(b []byte, s string) []byte {
	quote := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendPadded appends v in decimal, left-padded with zeros to width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	for n := len(tmp) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// appendTri appends a tri-state boolean: 0 blank (unknown), 1 false, 2 true.
func appendTri(b []byte, t uint8) []byte {
	switch t {
	case triFalse:
		return append(b, "false"...)
	case triTrue:
		return append(b, "true"...)
	}
	return b
}

// appendInt appends v in decimal.
func appendInt(b []byte, v int) []byte {
	return strconv.AppendInt(b, int64(v), 10)
}

const (
	triBlank uint8 = iota
	triFalse
	triTrue
)

// tri returns triTrue or triFalse.
func tri(v bool) uint8 {
	if v {
		return triTrue
	}
	return triFalse
}
