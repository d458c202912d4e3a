package sandbox

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ldSoCache is the dynamic loader's cache. It is bound into the sandbox (read-only) whenever a
// program needs shared libraries, so the loader finds them by the paths it finds them by on the
// host.
const ldSoCache = "/etc/ld.so.cache"

// ldSoConf is the root of the loader's configured search directories.
const ldSoConf = "/etc/ld.so.conf"

// libraryResolver finds the files a program needs to start: its ELF interpreter (PT_INTERP)
// and the shared libraries it names (DT_NEEDED), transitively, searched as the glibc loader
// searches them: DT_RPATH (when there is no DT_RUNPATH), DT_RUNPATH, the directories of
// /etc/ld.so.conf, then the default directories. A script's #! interpreter is resolved the
// same way. Libraries a program opens itself with dlopen are not found; bind them with
// Config.BindRO.
type libraryResolver struct {
	// confDirs are the directories from ld.so.conf, read once per resolver.
	confDirs []string
}

func newLibraryResolver() *libraryResolver {
	return &libraryResolver{confDirs: readLdSoConf(ldSoConf, 0)}
}

// resolve returns the absolute host paths path needs besides itself, sorted. A static
// executable needs none.
func (r *libraryResolver) resolve(path string) ([]string, error) {
	need := make(map[string]bool)
	if interp, err := shebangInterpreter(path); err != nil {
		return nil, err
	} else if interp != "" {
		need[interp] = true
		if err := r.resolveELF(interp, need); err != nil {
			return nil, fmt.Errorf("sandbox: script interpreter of %s: %w", path, err)
		}
		return sortedKeys(need), nil
	}
	if err := r.resolveELF(path, need); err != nil {
		return nil, err
	}
	return sortedKeys(need), nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// shebangInterpreter returns the interpreter named on a "#!" first line, or "" when the file
// does not start with one.
func shebangInterpreter(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 256).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("sandbox: reading %s: %w", path, err)
	}
	rest, ok := bytes.CutPrefix(line, []byte("#!"))
	if !ok {
		return "", nil
	}
	fields := strings.Fields(string(rest))
	if len(fields) == 0 || !filepath.IsAbs(fields[0]) {
		return "", fmt.Errorf("%w: %s has no absolute #! interpreter", ErrInvalidConfig, path)
	}
	return fields[0], nil
}

// resolveELF adds the interpreter and libraries of the ELF file at path to need.
func (r *libraryResolver) resolveELF(path string, need map[string]bool) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotExecutable, path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return fmt.Errorf("sandbox: reading PT_INTERP of %s: %w", path, err)
		}
		interp := string(bytes.TrimRight(b, "\x00"))
		if !filepath.IsAbs(interp) {
			return fmt.Errorf("%w: %s: relative interpreter %q", ErrNotExecutable, path, interp)
		}
		need[interp] = true
	}
	return r.resolveNeeded(f, path, need)
}

// resolveNeeded adds obj's DT_NEEDED libraries, and theirs, to need.
func (r *libraryResolver) resolveNeeded(obj *elf.File, objPath string, need map[string]bool) error {
	libs, err := obj.DynString(elf.DT_NEEDED)
	if err != nil {
		// No dynamic section: a static executable.
		return nil
	}
	dirs := r.searchDirs(obj, objPath)
	for _, lib := range libs {
		found, err := findLibrary(lib, dirs, obj)
		if err != nil {
			return fmt.Errorf("sandbox: %s needs %s: %w", objPath, lib, err)
		}
		if need[found] {
			continue
		}
		need[found] = true
		lf, err := elf.Open(found)
		if err != nil {
			return fmt.Errorf("sandbox: %s: %w", found, err)
		}
		err = r.resolveNeeded(lf, found, need)
		lf.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// searchDirs returns the directories the loader searches for obj's libraries, in order.
func (r *libraryResolver) searchDirs(obj *elf.File, objPath string) []string {
	origin := filepath.Dir(objPath)
	expand := func(list []string) []string {
		var out []string
		for _, entry := range list {
			for _, d := range strings.Split(entry, ":") {
				d = strings.ReplaceAll(d, "${ORIGIN}", origin)
				d = strings.ReplaceAll(d, "$ORIGIN", origin)
				if d != "" {
					out = append(out, d)
				}
			}
		}
		return out
	}
	var dirs []string
	runpath, _ := obj.DynString(elf.DT_RUNPATH)
	if len(runpath) == 0 {
		rpath, _ := obj.DynString(elf.DT_RPATH)
		dirs = append(dirs, expand(rpath)...)
	}
	dirs = append(dirs, expand(runpath)...)
	dirs = append(dirs, r.confDirs...)
	return append(dirs, defaultLibraryDirs(obj.Machine)...)
}

// defaultLibraryDirs are the loader's built-in directories on a Debian-style multiarch system,
// plus the lib64 directories of other distributions.
func defaultLibraryDirs(m elf.Machine) []string {
	var triplet string
	switch m {
	case elf.EM_X86_64:
		triplet = "x86_64-linux-gnu"
	case elf.EM_AARCH64:
		triplet = "aarch64-linux-gnu"
	}
	var dirs []string
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// findLibrary returns the first file named lib in dirs that is an ELF object of obj's class
// and machine. A name with a slash is a path and is used as it is.
func findLibrary(lib string, dirs []string, obj *elf.File) (string, error) {
	if strings.Contains(lib, "/") {
		if !filepath.IsAbs(lib) {
			return "", fmt.Errorf("%w: relative library path %q", ErrLibraryNotFound, lib)
		}
		return lib, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, lib)
		if compatibleELF(p, obj) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (searched %s)", ErrLibraryNotFound, strings.Join(dirs, ":"))
}

func compatibleELF(path string, obj *elf.File) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Class == obj.Class && f.Machine == obj.Machine && f.Data == obj.Data
}

// readLdSoConf returns the directories listed in an ld.so.conf file, following "include"
// globs. Unreadable files contribute nothing: the loader's defaults still apply.
func readLdSoConf(path string, depth int) []string {
	if depth > 8 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "include "):
			pattern := strings.TrimSpace(strings.TrimPrefix(line, "include "))
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(path), pattern)
			}
			matches, _ := filepath.Glob(pattern)
			slices.Sort(matches)
			for _, m := range matches {
				dirs = append(dirs, readLdSoConf(m, depth+1)...)
			}
		case strings.HasPrefix(line, "hwcap "):
		default:
			if filepath.IsAbs(line) {
				dirs = append(dirs, filepath.Clean(line))
			}
		}
	}
	return dirs
}
