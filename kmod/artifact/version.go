package artifact

import (
	"regexp"
	"strconv"
	"strings"
)

// CompareVersions orders module versions like semantic versions: dotted
// numbers, then a release sorts after its pre-releases ("1.0.0-rc1").
func CompareVersions(a, b string) int {
	ac, ap, _ := strings.Cut(a, "-")
	bc, bp, _ := strings.Cut(b, "-")
	if c := compareDotted(ac, bc); c != 0 {
		return c
	}
	switch {
	case ap == bp:
		return 0
	case ap == "":
		return 1
	case bp == "":
		return -1
	}
	return compareDotted(ap, bp)
}

func compareDotted(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		if i >= len(as) {
			return -1
		}
		if i >= len(bs) {
			return 1
		}
		an, aerr := strconv.ParseUint(as[i], 10, 64)
		bn, berr := strconv.ParseUint(bs[i], 10, 64)
		switch {
		case aerr == nil && berr == nil:
			if an != bn {
				if an < bn {
					return -1
				}
				return 1
			}
		case aerr == nil:
			return -1
		case berr == nil:
			return 1
		default:
			if c := compareNatural(as[i], bs[i]); c != 0 {
				return c
			}
		}
	}
	return 0
}

// compareNatural compares runs of digits as numbers and the rest as text:
// "rc2" < "rc10".
func compareNatural(a, b string) int {
	ac, bc := chunkRE.FindAllString(a, -1), chunkRE.FindAllString(b, -1)
	for i := 0; i < len(ac) && i < len(bc); i++ {
		an, aerr := strconv.ParseUint(ac[i], 10, 64)
		bn, berr := strconv.ParseUint(bc[i], 10, 64)
		if aerr == nil && berr == nil {
			if an != bn {
				if an < bn {
					return -1
				}
				return 1
			}
			continue
		}
		if c := strings.Compare(ac[i], bc[i]); c != 0 {
			return c
		}
	}
	return len(ac) - len(bc)
}

var chunkRE = regexp.MustCompile(`[0-9]+|[^0-9]+`)
