package authkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func authorizedLine(t testing.TB, pub any) (string, gossh.PublicKey) {
	t.Helper()
	key, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key))), key
}

func TestParse(t *testing.T) {
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed, edKey := authorizedLine(t, edPub)
	edFP := gossh.FingerprintSHA256(edKey)
	r1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak, _ := authorizedLine(t, &r1024.PublicKey)
	r2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	strong, strongKey := authorizedLine(t, &r2048.PublicKey)
	signer, _ := gossh.NewSignerFromKey(edPriv)
	cert := &gossh.Certificate{Key: edKey, CertType: gossh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	certLine := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(cert)))
	blob := strings.Fields(ed)[1]

	tests := []struct {
		name    string
		line    string
		fp      string
		comment string
		err     error
	}{
		{"bare key", ed, edFP, "", nil},
		{"comment kept", ed + " alice@laptop", edFP, "alice@laptop", nil},
		{"comment with spaces", ed + "  my work laptop ", edFP, "my work laptop", nil},
		{"options ignored", `no-pty,command="echo hi",from="10.0.0.1" ` + ed + " a", edFP, "a", nil},
		{"quoted option with spaces", `command="a b c" ` + ed, edFP, "", nil},
		{"surrounding spaces", "  " + ed + "\t", edFP, "", nil},
		{"RSA 2048", strong, gossh.FingerprintSHA256(strongKey), "", nil},
		{"RSA 1024", weak, "", "", ErrWeakRSA},
		{"certificate", certLine, "", "", ErrCertificate},
		{"damaged certificate", "ssh-ed25519-cert-v01@openssh.com AAAAnotbase64", "", "", ErrCertificate},
		{"DSA", "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZp old", "", "", ErrDSA},
		{"garbage", "hello world", "", "", ErrNotAKey},
		{"empty", "", "", "", ErrNotAKey},
		{"type only", "ssh-ed25519", "", "", ErrNotAKey},
		{"blob only", blob, "", "", ErrNotAKey},
		{"type mismatch", "ssh-rsa " + blob, "", "", ErrNotAKey},
		{"truncated blob", ed[:40], "", "", ErrNotAKey},
		{"two lines", ed + "\n" + strong, "", "", ErrNotAKey},
		{"a comment line", "# " + ed, "", "", ErrNotAKey},
		{"100 KB", strings.Repeat("A", 100<<10), "", "", ErrTooLong},
		{"100 KB after a key", ed + " " + strings.Repeat("x", 100<<10), "", "", ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fp, comment, err := Parse(tc.line)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("Parse: error %v, want %v", err, tc.err)
			}
			if fp != tc.fp || comment != tc.comment {
				t.Errorf("Parse = %q, %q; want %q, %q", fp, comment, tc.fp, tc.comment)
			}
		})
	}
}

func TestFingerprintOfCertificateIsItsKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := gossh.NewPublicKey(pub)
	signer, _ := gossh.NewSignerFromKey(priv)
	cert := &gossh.Certificate{Key: key, CertType: gossh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	if got, want := Fingerprint(cert), gossh.FingerprintSHA256(key); got != want {
		t.Errorf("Fingerprint(cert) = %s, want the key's %s", got, want)
	}
}

func TestSetReadsAndReloads(t *testing.T) {
	pub1, _, _ := ed25519.GenerateKey(rand.Reader)
	pub2, _, _ := ed25519.GenerateKey(rand.Reader)
	line1, k1 := authorizedLine(t, pub1)
	line2, k2 := authorizedLine(t, pub2)
	fp1, fp2 := gossh.FingerprintSHA256(k1), gossh.FingerprintSHA256(k2)
	path := filepath.Join(t.TempDir(), "operators")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("# operators\n\n" + line1 + " root@box\n")
	s, err := LoadSet(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has(fp1) || s.Has(fp2) || s.Has("") || s.Len() != 1 {
		t.Fatalf("after load: has fp1 %v, fp2 %v, len %d", s.Has(fp1), s.Has(fp2), s.Len())
	}
	write(line2 + "\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.Has(fp1) || !s.Has(fp2) {
		t.Fatalf("after reload: has fp1 %v, fp2 %v", s.Has(fp1), s.Has(fp2))
	}
	// A broken file is reported with its line and changes nothing.
	write(line1 + "\nnot a key\n")
	err = s.Reload()
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Reload of a broken file: %v, want an error naming line 2", err)
	}
	if s.Has(fp1) || !s.Has(fp2) {
		t.Fatal("a failed reload changed the set")
	}
	var none *Set
	if none.Has(fp1) || none.Len() != 0 {
		t.Fatal("a nil set has keys")
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := LoadSet(missing); err == nil {
		t.Fatal("a missing file loaded")
	}
	// An optional file may come and go.
	opt, err := LoadOptionalSet(missing)
	if err != nil || opt.Len() != 0 {
		t.Fatalf("LoadOptionalSet of a missing file: %v, %d keys", err, opt.Len())
	}
	if err := os.WriteFile(missing, []byte(line1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := opt.Reload(); err != nil || !opt.Has(fp1) {
		t.Fatalf("after the file appeared: %v, has %v", err, opt.Has(fp1))
	}
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	if err := opt.Reload(); err != nil || opt.Len() != 0 {
		t.Fatalf("after the file went: %v, %d keys", err, opt.Len())
	}
}

// FuzzParse feeds Parse what users may paste. The seed corpus in
// testdata/fuzz/FuzzParse holds valid keys with options and comments, a
// certificate, a weak RSA key, several lines, escape sequences and garbage.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		fp, comment, err := Parse(line)
		if err != nil {
			if fp != "" || comment != "" {
				t.Fatalf("Parse(%q) refused (%v) but returned %q, %q", line, err, fp, comment)
			}
			for _, known := range []error{ErrNotAKey, ErrTooLong, ErrCertificate, ErrWeakRSA, ErrDSA} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("Parse(%q): unexpected error %v", line, err)
		}
		if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+43 {
			t.Fatalf("Parse(%q) = fingerprint %q", line, fp)
		}
		if len(line) > MaxLineBytes || strings.ContainsAny(line, "\n\r") {
			t.Fatalf("Parse accepted a line it must refuse: %q", line)
		}
		if !strings.Contains(line, comment) {
			t.Fatalf("Parse(%q) = comment %q, not from the line", line, comment)
		}
		again, comment2, err := Parse(line)
		if err != nil || again != fp || comment2 != comment {
			t.Fatalf("Parse(%q) not deterministic", line)
		}
	})
}
