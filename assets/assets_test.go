package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestManagerIconIsA256PNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(ManagerIcon))
	if err != nil {
		t.Fatalf("embedded manager icon: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("manager icon is %v, want 256×256 for the menus and the window", b.Size())
	}
}
