package enginesrc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEngineLayers holds libmemif/ to Layers: includes only point down and
// form no cycle.
func TestEngineLayers(t *testing.T) {
	srcs, err := ReadSources("../../libmemif")
	require.NoError(t, err)
	require.NotEmpty(t, srcs)
	require.NoError(t, CheckLayers(srcs, Layers))
}

func TestCheckLayers(t *testing.T) {
	layers := []Layer{
		{[]string{"base"}, "bottom"},
		{[]string{"mid"}, "middle"},
		{[]string{"top", "side"}, "entry points"},
	}
	good := map[string]string{
		"base.h": "#ifndef B\n#include <stdint.h>\n#endif\n",
		"base.c": "#include \"base.h\"\n",
		"mid.h":  "#include \"base.h\"\n",
		"mid.c":  "#include \"mid.h\"\n#include \"base.h\"\n",
		"top.c":  "  #  include \"mid.h\"\n",
		"side.c": "#include \"base.h\"\n",
	}
	// good with files added or replaced: name, text, name, text, ...
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		srcs map[string]string
		want []string // substrings of the error; none: no error
	}{
		{"layered", good, nil},
		{"own header at the same layer", with("top.h", "", "top.c", "#include \"top.h\"\n"), nil},
		{"upward include", with("base.c", "#include \"base.h\"\n#include \"mid.h\"\n"),
			[]string{`base.c (layer 0, bottom) includes mid.h (layer 1, middle): includes must point down`}},
		{"neighbour in the same layer", with("side.h", "", "top.c", "#include \"side.h\"\n"),
			[]string{`top.c (layer 2, entry points) includes side.h (layer 2, entry points): includes must point down`}},
		{"include cycle", with("base.h", "#include \"mid.h\"\n"),
			[]string{`base.h (layer 0, bottom) includes mid.h`, `include cycle: base.h -> mid.h -> base.h`}},
		{"header including itself", with("mid.h", "#include \"mid.h\"\n"),
			[]string{`include cycle: mid.h -> mid.h`}},
		{"file in no layer", with("stray.c", "#include \"base.h\"\n"),
			[]string{`stray.c: in no layer`}},
		{"missing header", with("mid.c", "#include \"gone.h\"\n"),
			[]string{`mid.c: includes "gone.h", not an engine header`}},
		{"source included", with("top.c", "#include \"mid.c\"\n"),
			[]string{`top.c: includes "mid.c", not an engine header`}},
		{"layer without files", map[string]string{"base.h": "", "mid.c": "", "top.c": ""},
			[]string{`layer names side, but there is no side.c or side.h`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLayers(tc.srcs, layers)
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}
