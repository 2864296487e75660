package oci

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// BPF objects travel as OCI artifacts too, for `wbpf run REF` of an object with no guest: a
// config of media type MediaTypeBPFConfig (architecture "bpf", os "linux", the layer digests)
// and one layer of media type MediaTypeBPFLayer holding the ELF object, titled with its file
// name. Push chooses the layout from the content.
const (
	MediaTypeBPFConfig = "application/vnd.wbpf.bpf.config.v1+json"
	MediaTypeBPFLayer  = "application/vnd.wbpf.bpf.object.v1"
)

// emBPF is the ELF machine of BPF objects (EM_BPF).
const emBPF = 247

// IsBPFObject reports whether b is an ELF file for the BPF machine.
func IsBPFObject(b []byte) bool {
	if len(b) < 20 || !bytes.HasPrefix(b, []byte("\x7fELF")) {
		return false
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if b[5] == 2 { // ELFDATA2MSB
		bo = binary.BigEndian
	}
	return bo.Uint16(b[18:20]) == emBPF
}

// checkContent accepts what Push and Pull carry: a core Wasm module, or a BPF object.
func checkContent(b []byte) error {
	if bytes.HasPrefix(b, []byte("\x7fELF")) {
		if !IsBPFObject(b) {
			return fmt.Errorf("%w: an ELF file for another machine than BPF", ErrNotWasm)
		}
		return nil
	}
	return checkWasm(b)
}

// headSize is how many first bytes of a layer tell what it holds: the Wasm magic and version,
// or an ELF header up to its machine.
func headSize(mediaType string) int {
	if mediaType == MediaTypeBPFLayer {
		return 20
	}
	return 8
}

// checkLayer checks that content (or its first headSize bytes) is what its layer's media type
// says: a BPF object for MediaTypeBPFLayer, a core Wasm module otherwise.
func checkLayer(b []byte, mediaType string) error {
	if mediaType == MediaTypeBPFLayer {
		if !IsBPFObject(b) {
			return fmt.Errorf("%w: layer %s does not hold an ELF BPF object", ErrNotWasm, mediaType)
		}
		return nil
	}
	return checkWasm(b)
}
