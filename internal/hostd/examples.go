package hostd

import (
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// Example qubes made on a first run: a template on the host's root and two
// qubes based on it, so a new user has something to start.
const (
	ExampleTemplate  = "host-template"
	ExampleWork      = "work"
	ExampleUntrusted = "untrusted"
)

// CreateExamples creates the example qubes when the store holds nothing
// but dom0, and reports whether it did.
func (s *Server) CreateExamples() (bool, error) {
	if len(s.st.View().Qubes) > 1 {
		return false, nil
	}
	tag := "created-by-dom0"
	if err := s.add(ExampleTemplate, qube.TemplateVM, map[string]string{"label": "black"}, tag); err != nil {
		return false, err
	}
	for name, label := range map[string]string{ExampleWork: "blue", ExampleUntrusted: "red"} {
		if err := s.add(name, qube.AppVM, map[string]string{"label": label, "template": ExampleTemplate}, tag); err != nil {
			return false, err
		}
	}
	return true, nil
}
