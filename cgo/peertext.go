package memif

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// peerText makes a string a peer supplied (a DISCONNECT reason, its
// interface or application name) safe to show, log or put in JSON: control
// characters, escape sequences and invalid UTF-8 become visible \x / \u
// escapes, so a peer cannot rewrite a terminal or forge log lines.
func peerText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsGraphic(r):
			b.WriteString(s[i : i+n])
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}
