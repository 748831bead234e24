package local

import (
	"fmt"
	"strings"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// tempPrefix starts the name of every file being written. Names with a
// segment that starts with it are refused, so an object never collides with
// a temporary file and List can skip them all.
const tempPrefix = ".sinktmp-"

// isTemp reports whether a file's base name is a writer's temporary file.
func isTemp(base string) bool {
	return strings.HasPrefix(base, tempPrefix)
}

// checkName applies sink.CheckName and refuses temporary-file names.
func checkName(name string) error {
	if err := sink.CheckName(name); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(name, "/") {
		if isTemp(seg) {
			return fmt.Errorf("%w %q: segment starts with %q", sink.ErrInvalidName, name, tempPrefix)
		}
	}
	return nil
}
