package demo

import (
	"math"
	"math/rand/v2"
)

// gamma draws from a Gamma(k, 1) distribution, k ≥ 1 (Marsaglia and Tsang).
func gamma(r *rand.Rand, k float64) float64 {
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// poisson draws a Poisson count with mean mu: by inversion for small means,
// by a rounded normal approximation for large ones.
func poisson(r *rand.Rand, mu float64) int {
	if mu <= 0 {
		return 0
	}
	if mu >= 15 {
		return max(0, int(math.Round(mu+math.Sqrt(mu)*r.NormFloat64())))
	}
	u := r.Float64()
	p := math.Exp(-mu)
	k, cum := 0, p
	for u >= cum && k < 200 {
		k++
		p *= mu / float64(k)
		cum += p
	}
	return k
}

// pick returns the index i of weights with probability weights[i]/sum.
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	v := r.Float64() * total
	for i, w := range weights {
		if v < w {
			return i
		}
		v -= w
	}
	return len(weights) - 1
}

// responseWeights returns the distribution of the officer's highest response
// given the subject's behaviour: mostly proportionate, sometimes above or
// below.
func responseWeights(beh uint8) []float64 {
	switch beh {
	case behCooperative:
		return []float64{0.35, 0.50, 0.15, 0, 0, 0}
	case behPassive:
		return []float64{0.05, 0.20, 0.60, 0.10, 0.05, 0}
	case behActive:
		return []float64{0, 0.04, 0.45, 0.30, 0.205, 0.005}
	case behAssaultive:
		return []float64{0, 0.01, 0.17, 0.37, 0.42, 0.03}
	}
	return []float64{0, 0, 0.05, 0.15, 0.45, 0.35}
}

// drawWeapon returns the weapon an officer used for a response.
func drawWeapon(r *rand.Rand, resp uint8) uint8 {
	u := r.Float64()
	switch resp {
	case respHard:
		if u < 0.03 {
			return weaponBaton
		}
	case respIntermediate:
		switch {
		case u < 0.55:
			return weaponCEW
		case u < 0.80:
			return weaponOC
		case u < 0.90:
			return weaponBaton
		case u < 0.97:
			return weaponLauncher
		default:
			return weaponDog
		}
	case respLethal:
		if u < 0.97 {
			return weaponFirearm
		}
		return weaponVehicle
	}
	return weaponNone
}

// subjectInjuryP returns the chance the subject is injured by a response.
func subjectInjuryP(resp uint8) float64 {
	switch resp {
	case respSoft:
		return 0.12
	case respHard:
		return 0.38
	case respIntermediate:
		return 0.34
	case respLethal:
		return 0.80
	}
	return 0.01
}

// officerInjuryP returns the chance an officer is injured facing behaviour.
func officerInjuryP(beh uint8) float64 {
	switch beh {
	case behCooperative:
		return 0.01
	case behPassive:
		return 0.04
	case behActive:
		return 0.10
	case behAssaultive:
		return 0.22
	}
	return 0.30
}

// subjectWeaponP returns the chance a subject had a weapon given behaviour.
func subjectWeaponP(beh uint8) float64 {
	switch beh {
	case behCooperative:
		return 0.03
	case behPassive:
		return 0.05
	case behActive:
		return 0.12
	case behAssaultive:
		return 0.30
	}
	return 0.75
}

// drawSeverity returns the severity of a non-fatal injury.
func drawSeverity(r *rand.Rand) uint8 {
	switch u := r.Float64(); {
	case u < 0.72:
		return sevMinor
	case u < 0.93:
		return sevLostTime
	}
	return sevHospitalized
}
