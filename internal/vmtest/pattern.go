package vmtest

// Pattern is the colour, as 0x00RRGGBB, that the guest's test client
// (internal/vmtest/xpattern) paints at (x, y) of its window: distinct
// enough per pixel that a shifted, transposed or stale copy shows up.
func Pattern(x, y int) uint32 {
	return uint32(x*7%256)<<16 | uint32(y*5%256)<<8 | uint32((x*3+y)%256)
}
