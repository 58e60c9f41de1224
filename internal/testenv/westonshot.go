package testenv

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

// westonShoot captures weston's output through its weston_screenshooter
// protocol (weston 10, offered to any client under --debug), as a client
// of its own. weston-screenshooter would do the same but saves the pixels
// as ARGB, so an XRGB8888 surface whose padding byte is 0 comes out fully
// transparent; the output has no alpha, so every pixel here is opaque.
//
// Debian ships no XML for the protocol, so it is encoded with wayland.Raw:
// weston_screenshooter v1, request 0 shoot(output: wl_output, buffer:
// wl_buffer), event 0 done (no arguments, also sent for a bad buffer).
func westonShoot(socket string) (image.Image, error) {
	c, err := wayland.Connect(socket)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	shm, output := new(wayland.WlShm), new(wayland.WlOutput)
	shooter := &wayland.Raw{Name: "weston_screenshooter", Max: 1}
	for _, o := range []wayland.Object{shm, output, shooter} {
		if err := c.Bind(o, 1); err != nil {
			return nil, fmt.Errorf("%w (weston runs without --debug?)", err)
		}
	}
	var width, height int32
	output.OnMode = func(ev wayland.WlOutputModeEvent) {
		if ev.Flags&wayland.WlOutputModeCurrent != 0 {
			width, height = ev.Width, ev.Height
		}
	}
	if err := c.Roundtrip(); err != nil {
		return nil, err
	}
	if width <= 0 || height <= 0 || width > 1<<14 || height > 1<<14 {
		return nil, fmt.Errorf("weston output has no usable current mode (%dx%d)", width, height)
	}

	// weston copies its rows of 4*width bytes back to back, so the buffer
	// must be exactly the output's size with no row padding.
	stride := 4 * width
	mem, err := wayland.NewMemfd("westonshot", int(stride*height))
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	pool, err := shm.CreatePool(int(mem.File.Fd()), stride*height)
	if err != nil {
		return nil, err
	}
	buf, err := pool.CreateBuffer(0, width, height, stride, wayland.WlShmFormatXrgb8888)
	if err != nil {
		return nil, err
	}
	done := false
	shooter.OnEvent = func(opcode uint16, _ *wire.Decoder) error {
		if opcode != 0 {
			return fmt.Errorf("weston_screenshooter: unknown event %d", opcode)
		}
		done = true
		return nil
	}
	if err := shooter.Request(0, 1, false, func(b *wire.Builder) {
		b.Object(output.ID())
		b.Object(buf.ID())
	}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !done {
		if err := c.Dispatch(ctx); err != nil {
			return nil, fmt.Errorf("waiting for weston_screenshooter.done: %w", err)
		}
	}

	// weston wrote its read format as B,G,R,X bytes (little-endian XRGB8888).
	img := image.NewRGBA(image.Rect(0, 0, int(width), int(height)))
	for i := 0; i < len(img.Pix); i += 4 {
		p := binary.LittleEndian.Uint32(mem.Data[i:])
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(p>>16), uint8(p>>8), uint8(p), 0xff
	}
	return img, nil
}
