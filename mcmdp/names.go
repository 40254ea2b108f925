package mcmdp

import "fmt"

// The enums print as MCM's documentation names them, and unknown values as
// Type(n), so logs and errors say what was asked.

var (
	transferNames = [...]string{"Tx", "Rx"}
	payloadNames  = [...]string{"video", "audio", "ancillary"}
	audioFmtNames = [...]string{"pcm8", "pcm16", "pcm24", "am824"}
	samplingNames = [...]string{"48kHz", "96kHz", "44.1kHz"}
	ptimeNames    = [...]string{"1ms", "125us", "250us", "333us", "4ms", "80us", "1.09ms", "0.14ms", "0.09ms"}
)

func (t TransferType) String() string  { return enumName(transferNames[:], int(t), "TransferType") }
func (p PayloadType) String() string   { return enumName(payloadNames[:], int(p), "PayloadType") }
func (f AudioFormat) String() string   { return enumName(audioFmtNames[:], int(f), "AudioFormat") }
func (s AudioSampling) String() string { return enumName(samplingNames[:], int(s), "AudioSampling") }
func (p AudioPTime) String() string    { return enumName(ptimeNames[:], int(p), "AudioPTime") }

func enumName(names []string, v int, typ string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}
