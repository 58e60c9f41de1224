package vmtest

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
)

// libDirs are where Debian's dynamic loader finds the libraries of
// packaged programs on amd64.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib"}

// SharedLibs returns the host paths of the dynamic loader and every shared
// library that the ELF program bin needs, transitively, so that the program
// can be copied into a guest image that has no package manager.
func SharedLibs(bin string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var visit func(file string, root bool) error
	visit = func(file string, root bool) error {
		f, err := elf.Open(file)
		if err != nil {
			return fmt.Errorf("read ELF %s: %w", file, err)
		}
		defer f.Close()
		if root {
			for _, p := range f.Progs {
				if p.Type != elf.PT_INTERP {
					continue
				}
				b := make([]byte, p.Filesz)
				if _, err := p.ReadAt(b, 0); err != nil {
					return fmt.Errorf("read interpreter of %s: %w", file, err)
				}
				interp := string(b[:len(b)-1]) // NUL-terminated
				seen[filepath.Base(interp)] = true
				out = append(out, interp)
			}
		}
		needed, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("read needed libraries of %s: %w", file, err)
		}
		for _, lib := range needed {
			if seen[lib] {
				continue
			}
			seen[lib] = true
			p, err := findLib(lib)
			if err != nil {
				return fmt.Errorf("%s needs %w", file, err)
			}
			out = append(out, p)
			if err := visit(p, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(bin, true); err != nil {
		return nil, err
	}
	return out, nil
}

func findLib(name string) (string, error) {
	for _, d := range libDirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s, which is in none of %v", name, libDirs)
}
