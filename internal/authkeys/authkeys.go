// Package authkeys reads SSH public keys in the authorized_keys format, as
// users paste them (/keys add) and as operators list them in files
// (--operators), and names a key by its SHA256 fingerprint, the one name
// for a key that the rest of chatroom ever sees. It wraps
// golang.org/x/crypto/ssh's parser with the rules chatroom adds: one key a
// line, no certificates, no DSA, RSA of at least MinRSABits, and refusals
// worded for users.
package authkeys

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	gossh "golang.org/x/crypto/ssh"
)

// MinRSABits is the smallest RSA modulus accepted: what NIST and OpenSSH
// (since 8.8 refuses less than 1024, and ssh-keygen makes 3072) hold as the
// floor for keys in use today.
const MinRSABits = 2048

// MaxLineBytes bounds one authorized_keys line. The largest key OpenSSH
// makes (RSA 16384) takes under 3 KB with options and a comment; anything
// far longer is not a key and is refused before it is parsed.
const MaxLineBytes = 8 << 10

// Errors of Parse. Their texts are sentences for users.
var (
	ErrNotAKey     = errors.New("that is not an SSH public key: paste one line of your .pub file, like \"ssh-ed25519 AAAA... you@laptop\"")
	ErrTooLong     = errors.New("that line is too long to be an SSH public key")
	ErrCertificate = errors.New("that is an SSH certificate: add the plain public key it certifies (the .pub file), not the certificate")
	ErrWeakRSA     = fmt.Errorf("that RSA key is too short: keys of at least %d bits are accepted (ssh-keygen -t ed25519 makes a better one)", MinRSABits)
	ErrDSA         = errors.New("DSA keys are no longer safe and are refused: make another with ssh-keygen -t ed25519")
)

// Fingerprint is the SHA256 fingerprint of key, as ssh-keygen -l shows
// it: "SHA256:" and 43 base64 characters. A certificate is named by the key
// it certifies, whose private half its holder proves to have.
func Fingerprint(key gossh.PublicKey) string {
	if cert, ok := key.(*gossh.Certificate); ok {
		key = cert.Key
	}
	return gossh.FingerprintSHA256(key)
}

// Parse reads one authorized_keys line: options before the key are
// ignored, and the comment after it is returned as it is (the caller
// cleans it before anyone sees it). It returns the key's fingerprint, or
// one of the errors above. Parse never panics, whatever line it gets.
func Parse(line string) (fingerprint, comment string, err error) {
	if len(line) > MaxLineBytes {
		return "", "", ErrTooLong
	}
	line = strings.TrimSpace(line)
	if line == "" || strings.ContainsAny(line, "\r\n") {
		// One line: the library would skip lines it cannot read and take
		// the first it can, so a paste of several would add a key the
		// user never looked at.
		return "", "", ErrNotAKey
	}
	key, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", "", unreadable(line)
	}
	if err := check(key); err != nil {
		return "", "", err
	}
	return Fingerprint(key), comment, nil
}

// unreadable says why the library could not read a line: a certificate
// (even a damaged one) and a DSA key (which the library no longer reads)
// are named as such, so that the user knows what to paste instead.
func unreadable(line string) error {
	for _, f := range strings.Fields(line) {
		switch {
		case strings.HasSuffix(f, "-cert-v01@openssh.com"):
			return ErrCertificate
		case f == "ssh-dss":
			return ErrDSA
		}
	}
	return ErrNotAKey
}

// check applies chatroom's rules to a key the library could read.
func check(key gossh.PublicKey) error {
	if _, ok := key.(*gossh.Certificate); ok {
		return ErrCertificate
	}
	switch key.Type() {
	case gossh.KeyAlgoRSA:
		ck, ok := key.(gossh.CryptoPublicKey)
		if !ok {
			return ErrNotAKey
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok || rk.N.BitLen() < MinRSABits {
			return ErrWeakRSA
		}
	}
	return nil
}

// ReadFile reads an authorized_keys file and returns the fingerprints of
// its keys. Blank lines and lines starting with # are skipped; any other
// line that is not a key is an error naming its line number, so that a
// typo does not silently leave someone out. Certificates and weak keys are
// refused as Parse refuses them.
func ReadFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	var fps []string
	for n, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fp, _, err := Parse(text)
		if err != nil {
			return nil, fmt.Errorf("keys file %s, line %d: %w", path, n+1, err)
		}
		fps = append(fps, fp)
	}
	return fps, nil
}

// Set is a set of keys read from an authorized_keys file, by fingerprint,
// that can be read again while the server runs (on SIGHUP). It is safe for
// concurrent use.
type Set struct {
	path     string
	optional bool       // a missing file is an empty set
	reload   sync.Mutex // one Reload at a time
	fps      atomic.Pointer[map[string]struct{}]
}

// LoadSet reads the keys file at path, which must exist.
func LoadSet(path string) (*Set, error) {
	return loadSet(path, false)
}

// LoadOptionalSet reads the keys file at path if there is one: while there
// is none, the set is empty.
func LoadOptionalSet(path string) (*Set, error) {
	return loadSet(path, true)
}

func loadSet(path string, optional bool) (*Set, error) {
	s := &Set{path: path, optional: optional}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the file again. When it cannot, the set keeps the keys it
// had and the error says why.
func (s *Set) Reload() error {
	s.reload.Lock()
	defer s.reload.Unlock()
	fps, err := ReadFile(s.path)
	if s.optional && errors.Is(err, os.ErrNotExist) {
		fps, err = nil, nil
	}
	if err != nil {
		return err
	}
	m := make(map[string]struct{}, len(fps))
	for _, fp := range fps {
		m[fp] = struct{}{}
	}
	s.fps.Store(&m)
	return nil
}

// Has reports whether the key with this fingerprint is in the set. A nil
// Set and the empty fingerprint ("no key") have nothing.
func (s *Set) Has(fingerprint string) bool {
	if s == nil || fingerprint == "" {
		return false
	}
	m := s.fps.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[fingerprint]
	return ok
}

// Len is the number of keys in the set.
func (s *Set) Len() int {
	if s == nil || s.fps.Load() == nil {
		return 0
	}
	return len(*s.fps.Load())
}

// Path is the file the set is read from.
func (s *Set) Path() string { return s.path }
