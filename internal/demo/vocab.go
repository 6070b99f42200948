package demo

// course is one row of courses.csv plus how the generator schedules it.
type course struct {
	id, title, category string
	hours               int
	recertDays          int // 0 = no recertification
	mandatory           bool
	delivery            [3]float64 // weights of in-person, online, blended
}

// Indices into catalogue().
const (
	cIMIM = iota
	cFirearms
	cCEW
	cFirstAid
	cCIT
	cICAT
	cPJ
	nCourses
)

// catalogue returns the courses written to courses.csv, indexed by the c*
// constants.
func catalogue() []course {
	return []course{
		cIMIM:     {UseOfForceRecertCourse, "IMIM recertification (Incident Management/Intervention Model)", "use-of-force", 8, 365, true, [3]float64{0.85, 0, 0.15}},
		cFirearms: {FirearmsCourse, "Annual firearms requalification", "firearms", 6, 365, true, [3]float64{1, 0, 0}},
		cCEW:      {CEWCourse, "Conducted energy weapon user recertification", "use-of-force", 4, 730, false, [3]float64{0.9, 0, 0.1}},
		cFirstAid: {FirstAidCourse, "Standard First Aid, CPR-C and AED", "first-aid", 16, 1095, true, [3]float64{0.55, 0, 0.45}},
		cCIT:      {CrisisInterventionCourse, "Crisis Intervention Team (CIT) 40-hour course", "crisis-intervention", 40, 0, false, [3]float64{0.95, 0, 0.05}},
		cICAT:     {DeescalationCourse, "ICAT: Integrating Communications, Assessment, and Tactics", "de-escalation", 16, 0, false, [3]float64{0.9, 0, 0.1}},
		cPJ:       {ProceduralJusticeCourse, `Procedural justice: "fair and impartial" policing`, "procedural-justice", 8, 0, false, [3]float64{0.5, 0.4, 0.1}},
	}
}

// Delivery modes of training rows.
const (
	deliveryBlank = iota
	deliveryInPerson
	deliveryOnline
	deliveryBlended
)

func deliveryName(d uint8) string {
	switch d {
	case deliveryInPerson:
		return "in-person"
	case deliveryOnline:
		return "online"
	case deliveryBlended:
		return "blended"
	}
	return ""
}

// Ranks, lowest first.
const (
	rankConstable = iota
	rankSergeant
	rankStaffSergeant
	rankInspector
	nRanks
)

func rankName(r uint8) string {
	switch r {
	case rankSergeant:
		return "Sergeant"
	case rankStaffSergeant:
		return "Staff Sergeant"
	case rankInspector:
		return "Inspector"
	}
	return "Constable"
}

// rankMultipliers returns the rate multipliers of a rank: supervisors spend
// less time on the street.
func rankMultipliers(r uint8) (force, complaints, calls float64) {
	switch r {
	case rankSergeant:
		return 0.55, 0.7, 0.5
	case rankStaffSergeant:
		return 0.25, 0.4, 0.2
	case rankInspector:
		return 0.08, 0.2, 0.05
	}
	return 1, 1, 1
}

// Genders of officers and subjects; genderBlank is unknown.
const (
	genderBlank = iota
	genderMale
	genderFemale
	genderOther
)

func genderName(g uint8) string {
	switch g {
	case genderMale:
		return "male"
	case genderFemale:
		return "female"
	case genderOther:
		return "other"
	}
	return ""
}

// Subject behaviour on the IMIM scale, least to most threatening.
const (
	behCooperative = iota
	behPassive
	behActive
	behAssaultive
	behGrievous
	nBehaviours
)

// SubjectBehaviours returns the values of force.subject_behaviour, least to
// most threatening.
func SubjectBehaviours() []string {
	return []string{"cooperative", "passive-resistant", "active-resistant", "assaultive", "grievous-bodily-harm-or-death"}
}

// Officer responses, lowest first.
const (
	respPresence = iota
	respCommunication
	respSoft
	respHard
	respIntermediate
	respLethal
	nResponses
)

// Responses returns the values of force.response, lowest first.
func Responses() []string {
	return []string{"presence", "communication", "physical-control-soft", "physical-control-hard", "intermediate-weapon", "lethal-force"}
}

// Weapons returns the values of force.weapon.
func Weapons() []string {
	return []string{"none", "OC spray", "baton", "CEW", "less-lethal launcher", "police service dog", "firearm", "vehicle"}
}

const (
	weaponNone = iota
	weaponOC
	weaponBaton
	weaponCEW
	weaponLauncher
	weaponDog
	weaponFirearm
	weaponVehicle
)

// SubjectRaces returns the non-blank values of force.subject_race.
func SubjectRaces() []string {
	return []string{"White", "Black", "Indigenous", "South Asian", "East/Southeast Asian", "Middle Eastern", "Latino", "Other"}
}

// Findings returns the values of complaints.finding.
func Findings() []string {
	return []string{"sustained", "not-sustained", "unfounded", "exonerated", "pending"}
}

const (
	findSustained = iota
	findNotSustained
	findUnfounded
	findExonerated
	findPending
)

// Severities returns the values of injuries.severity, least severe first.
func Severities() []string {
	return []string{"minor", "lost-time", "hospitalized", "fatal"}
}

const (
	sevMinor = iota
	sevLostTime
	sevHospitalized
	sevFatal
)

// CommendationKinds returns the values of commendations.kind.
func CommendationKinds() []string {
	return []string{"de-escalation", "life-saving", "community-service", "bravery", "long-service"}
}

const (
	kindDeescalation = iota
	kindLifeSaving
	kindCommunity
	kindBravery
	kindLongService
)

// Deliveries returns the non-blank values of training.delivery.
func Deliveries() []string {
	return []string{"in-person", "online", "blended"}
}

// allegations returns complaint allegations with their relative weights;
// some hold commas and quotes so that importers exercise RFC 4180 quoting.
func allegations() ([]string, []float64) {
	return []string{
			"Excessive force",
			"Discourtesy",
			"Neglect of duty",
			"Unlawful arrest",
			"Improper search, seizure of property",
			"Abuse of authority",
			`Discreditable conduct - "rude and insulting language"`,
			"Failure to provide service",
			"Racial profiling, differential treatment",
			"Damage to property",
			`Improper use of CEW ("Taser")`,
			"Unnecessary exercise of authority, detention without cause",
		}, []float64{
			18, 16, 14, 7, 6, 8, 9, 8, 5, 3, 3, 3,
		}
}

// unitTypes returns the kinds of unit, their name stems and rate multipliers.
type unitType struct {
	stem                 string
	force, complaints    float64
	callsLo, callsHi     float64
	citShare, reviewBias float64
}

func unitTypes() []unitType {
	return []unitType{
		{"Patrol", 1, 1, 30, 60, 0.30, 0},
		{"Traffic", 0.4, 1.2, 20, 35, 0.10, 0.03},
		{"Community Response", 0.6, 0.7, 20, 35, 0.25, 0.02},
		{"Street Crime", 1.8, 1.5, 20, 40, 0.12, -0.08},
	}
}
