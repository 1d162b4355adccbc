package spec

import (
	"fmt"
	"strings"
)

// LookupFunc returns the value of an environment variable and whether it is
// set; os.LookupEnv is one.
type LookupFunc func(name string) (string, bool)

// Interpolate replaces ${VAR} and ${VAR:-default} in s with values from
// lookup. A variable that is unset (or set but empty, for the :- form) takes
// its default; one that is unset with no default is an error. $${ stands for
// a literal ${. The returned bool reports whether s referred to any
// variable. Errors name the variable, never its value.
func Interpolate(s string, lookup LookupFunc) (string, bool, error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	used := false
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		j += i
		if j > 0 && s[j-1] == '$' {
			// $${ is an escaped ${.
			b.WriteString(s[i : j-1])
			b.WriteString("${")
			i = j + 2
			continue
		}
		b.WriteString(s[i:j])
		end := strings.IndexByte(s[j:], '}')
		if end < 0 {
			return "", used, fmt.Errorf("unclosed ${ at offset %d (write $${ for a literal ${)", j)
		}
		body := s[j+2 : j+end]
		name, def, hasDef := strings.Cut(body, ":-")
		if !validVarName(name) {
			return "", used, fmt.Errorf("invalid variable name %q in ${...}: use letters, digits and _", name)
		}
		used = true
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", used, fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
		}
		i = j + end + 1
	}
	return b.String(), used, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
