package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestCommittedBindingsAreReproducible regenerates the bindings from the
// system's protocol XML and compares them with the committed file.
func TestCommittedBindingsAreReproducible(t *testing.T) {
	for _, f := range protocolFiles {
		if _, err := os.Stat(f); err != nil {
			testenv.Missing(t, "protocol XML %s (Debian packages libwayland-dev, wayland-protocols, plasma-wayland-protocols)", f)
		}
	}
	got, err := generate(protocolFiles)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../wayland/protocols_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("compositor/wayland/protocols_gen.go differs from the generator's output; run go generate ./compositor/wayland")
	}
}

// TestNoDescriptionText checks that no sentence from the XML descriptions
// reaches the bindings.
func TestNoDescriptionText(t *testing.T) {
	src, err := os.ReadFile("../../wayland/protocols_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"The core global object", "This interface allows a client to alter the palette", "Copyright", "SPDX"} {
		if bytes.Contains(src, []byte(s)) {
			t.Errorf("bindings contain XML text %q", s)
		}
	}
}
