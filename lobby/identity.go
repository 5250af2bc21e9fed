package lobby

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Who you are: a session is known by the SSH key it presented (its SHA256
// fingerprint, member.fp; "" for none), and a name can be registered to keys,
// so that only sessions presenting one of them may use it. Registrations
// change only through the log (ChangeRegister, ChangeUnregister,
// ChangeKeyAdd, ChangeKeyRemove, ChangeSetting), so a name registered on one
// node is held on all. The lobby never sees key material: the front door
// hands it fingerprints, and Config.ParseKey turns a pasted authorized_keys
// line into one.

// Kinds of StateRecord for registrations.
const (
	kindRegistration = "registration" // a registered name, by the name as registered
	kindSetting      = "setting"      // a registered name's setting, by "name/key"
)

// Limits on what a registered name keeps.
const (
	// MaxKeys is how many SSH keys may hold one name.
	MaxKeys = 16
	// MaxKeyLabel is the characters kept of a key's label (the comment of
	// its authorized_keys line).
	MaxKeyLabel = 64
	// MaxSettings is how many settings one registered name keeps.
	MaxSettings = 1000
	// MaxSettingKey and MaxSettingValue bound a setting, in bytes.
	MaxSettingKey   = 100
	MaxSettingValue = 4096
)

// RegisteredMark follows a registered name wherever the chat points one out
// as registered (the prompt's refusal, /whois), so that a look-alike
// without it stands out.
const RegisteredMark = "✓"

// registration is a name held by SSH keys. Guarded by Lobby.mu.
type registration struct {
	name     string // as registered, which is how it is shown
	since    int64  // Unix nanoseconds
	keys     []heldKey
	settings map[string]string
	rd       *reader // its read positions and conversations (unread.go)
}

// heldKey is one key of a registration, as stored.
type heldKey struct {
	FP    string `json:"fp"`
	Label string `json:"label,omitempty"`
	Added int64  `json:"added"`
}

// registrationRecord is a registration as the store keeps it.
type registrationRecord struct {
	Name  string    `json:"name"`
	Since int64     `json:"since"`
	Keys  []heldKey `json:"keys"`
}

func (r *registration) hasKey(fp string) bool {
	return fp != "" && slices.ContainsFunc(r.keys, func(k heldKey) bool { return k.FP == fp })
}

// nameRegisteredError refuses a registered name, with the name as
// registered and the mark, in words a front end shows as they are.
type nameRegisteredError struct {
	name    string
	keyless bool
}

func (e *nameRegisteredError) Error() string {
	if e.keyless {
		return fmt.Sprintf("the name %s %s is registered, and you connected without an SSH key: pick another name", e.name, RegisteredMark)
	}
	return fmt.Sprintf("the name %s %s is registered, and your SSH key is not one of its keys: pick another name", e.name, RegisteredMark)
}

func (e *nameRegisteredError) Is(target error) bool { return target == ErrNameRegistered }

// mayUseLocked says whether m may take name: nil when name is not
// registered or m's key holds it. l.mu must be held.
func (l *Lobby) mayUseLocked(m *member, name string) error {
	r, ok := l.regs.find(name)
	if !ok || r.hasKey(m.fp) {
		return nil
	}
	return &nameRegisteredError{name: r.name, keyless: m.fp == ""}
}

// takeableLocked checks that m may take name, as typed: nobody online has
// it (m itself aside) and, if it is registered, m's key holds it. It
// returns the name as it will be shown: a registered name as registered,
// whatever the case typed. The prompt (Claim) and a change of name ask it
// alike. l.mu must be held.
func (l *Lobby) takeableLocked(m *member, name string) (string, error) {
	if other, taken := l.names.find(name); taken && other != m {
		return "", ErrNameTaken
	}
	if err := l.mayUseLocked(m, name); err != nil {
		return "", err
	}
	if r, ok := l.regs.find(name); ok {
		return r.name, nil
	}
	return name, nil
}

// guestKey and digitKeys are the user keys of "Guest" and of each digit,
// for guestLike.
var (
	guestKey  = userKey("Guest")
	digitKeys = func() []string {
		keys := make([]string, 10)
		for d := range keys {
			keys[d] = userKey(strconv.Itoa(d))
		}
		return keys
	}()
)

// guestLike reports whether name is a Guest<N> name, or looks like one
// ("GUEST7", "Guestl", "GuestI"): names the server hands out, which nobody
// may hold. Like names in use (lookalike.go), it looks at the name
// case-folded and as written, where a capital I still looks like a 1.
func guestLike(name string) bool {
	for _, k := range lookAlikeKeys(name) {
		if guestPattern(k) {
			return true
		}
	}
	return false
}

// guestPattern reports whether the user key k is that of "Guest" and
// digits.
func guestPattern(k string) bool {
	rest, ok := strings.CutPrefix(k, guestKey)
	if !ok || rest == "" {
		return false
	}
	for rest != "" {
		i := slices.IndexFunc(digitKeys, func(d string) bool { return strings.HasPrefix(rest, d) })
		if i < 0 {
			return false
		}
		rest = rest[len(digitKeys[i]):]
	}
	return true
}

// ShortFingerprint is the start of a key's fingerprint, enough for people to
// tell keys apart by eye ("SHA256:" and 12 of its 43 characters).
func ShortFingerprint(fp string) string {
	const keep = len("SHA256:") + 12
	if len(fp) <= keep {
		return fp
	}
	return fp[:keep]
}

// ---- the state ----

// saveRegistrationLocked has the store keep r as it is now. l.mu must be
// held.
func (l *Lobby) saveRegistrationLocked(r *registration) {
	b, err := json.Marshal(registrationRecord{Name: r.name, Since: r.since, Keys: r.keys})
	if err != nil {
		panic(fmt.Sprintf("encode registration: %v", err)) // strings and numbers: cannot fail
	}
	l.writes.State = append(l.writes.State, StateRecord{Kind: kindRegistration, Key: r.name, Value: b})
}

// settingRecordKey names a setting's record: a name has no '/', so the
// first one ends it.
func settingRecordKey(name, key string) string { return name + "/" + key }

// restoreRegistration adds a registration record to the state being
// restored, and restoreSetting a setting record, once every registration
// is in. They run before anything else touches the lobby.
func (l *Lobby) restoreRegistration(rec StateRecord) error {
	var rr registrationRecord
	if err := json.Unmarshal(rec.Value, &rr); err != nil {
		return fmt.Errorf("registration %s: %w", rec.Key, err)
	}
	if old, ok := l.regs.find(rr.Name); ok {
		// Two names that look alike only under a newer confusables table:
		// the older keeps it.
		l.logger.Warn("two registered names look the same; keeping the first", "kept", old.name, "dropped", rr.Name)
		return nil
	}
	r := &registration{name: rr.Name, since: rr.Since, keys: rr.Keys, settings: make(map[string]string)}
	r.rd = newReader(r.name, r)
	l.indexReaderLocked(r.rd)
	l.regs.add(r.name, r)
	for _, hk := range r.keys {
		l.keyNames[hk.FP] = r
	}
	return nil
}

func (l *Lobby) restoreSetting(rec StateRecord) error {
	name, key, _ := strings.Cut(rec.Key, "/")
	r, ok := l.regs.find(name)
	if !ok || r.name != name {
		return nil // left by a registration since let go
	}
	var v string
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		return fmt.Errorf("setting %s: %w", rec.Key, err)
	}
	r.settings[key] = v
	return nil
}

// ---- appliers ----

// tellLocked sends a notice to s if it is on this node (s is nil
// otherwise). l.mu must be held.
func (l *Lobby) tellLocked(s *Session, isErr bool, format string, args ...any) {
	if s != nil {
		l.noticeLocked(s, isErr, format, args...)
	}
}

// registerRefusal is why m may not register its name, "" when it may. l.mu
// must be held.
func (l *Lobby) registerRefusal(m *member) string {
	switch {
	case m.fp == "":
		return "You connected without an SSH key, so there is nothing to hold your name with. Connect with a key (ssh -i ~/.ssh/id_ed25519 ...) and /register again."
	case guestLike(m.name):
		return fmt.Sprintf("Guest names such as %s cannot be registered: sign in with a name of your own, then /register.", m.name)
	}
	if r, ok := l.regs.find(m.name); ok {
		if r.hasKey(m.fp) {
			return fmt.Sprintf("%s is registered to your key already. /keys lists its keys.", r.name)
		}
		return fmt.Sprintf("%s is registered to someone else.", r.name)
	}
	if r := l.keyNames[m.fp]; r != nil {
		return fmt.Sprintf("Your SSH key holds the name %s already, and a key holds one name. Sign in as %s, or connect with another key.", r.name, r.name)
	}
	return ""
}

// heldRefusal returns the registration of m's name when m's key holds it,
// or why it cannot change it. l.mu must be held.
func (l *Lobby) heldRefusal(m *member) (*registration, string) {
	r, _ := l.regs.find(m.name)
	switch {
	case r == nil:
		return nil, fmt.Sprintf("%s is not registered. /register holds it for your SSH key.", m.name)
	case !r.hasKey(m.fp):
		return nil, fmt.Sprintf("The key of this session is not one of %s's keys any more, so it cannot change the registration.", r.name)
	}
	return r, ""
}

// proposerLocked is the member that proposed c, with its session when on
// this node, if it still has the name c was proposed for. l.mu must be held.
func (l *Lobby) proposerLocked(c *Change) (*member, *Session, bool) {
	m := l.members[c.Session]
	if m == nil || m.name == "" {
		return nil, nil, false
	}
	if m.name != c.Name {
		// Renamed between the command and its change: it was for the old name.
		l.tellLocked(m.sess, true, "Your name changed before that was carried out; nothing was done.")
		return nil, nil, false
	}
	return m, m.sess, true
}

func (l *Lobby) applyRegister(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	if why := l.registerRefusal(m); why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	r := &registration{name: m.name, since: c.At, keys: []heldKey{{FP: m.fp, Added: c.At}}, settings: make(map[string]string)}
	l.regs.add(r.name, r)
	l.keyNames[m.fp] = r
	l.saveRegistrationLocked(r)
	l.readerRegisteredLocked(m, r)
	l.settingsChangedLocked(r.name)
	l.tellLocked(s, false, "%s %s is now registered to your SSH key %s: only sessions with one of its keys may use the name. /keys add adds another key (a second machine).", r.name, RegisteredMark, m.fp)
	return nil
}

func (l *Lobby) applyUnregister(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	r, why := l.heldRefusal(m)
	if r == nil {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	l.readerUnregisteredLocked(r)
	l.regs.remove(r.name, r)
	for _, hk := range r.keys {
		delete(l.keyNames, hk.FP)
	}
	// Whoever registers the name next is somebody else: the rooms it
	// owned, ran or was invited to forget it.
	l.forgetNameLocked(r.name)
	l.writes.State = append(l.writes.State, StateRecord{Kind: kindRegistration, Key: r.name})
	for _, k := range slices.Sorted(maps.Keys(r.settings)) {
		l.writes.State = append(l.writes.State, StateRecord{Kind: kindSetting, Key: settingRecordKey(r.name, k)})
	}
	l.settingsChangedLocked(r.name)
	l.tellLocked(s, false, "%s is no longer registered: its keys and settings are forgotten, and anyone may take the name once you leave it.", r.name)
	return nil
}

// keyAddRefusal is why r may not take the key fp, "" when it may. l.mu
// must be held.
func (l *Lobby) keyAddRefusal(r *registration, fp string) string {
	switch owner := l.keyNames[fp]; {
	case owner == r:
		return fmt.Sprintf("That key is one of %s's keys already.", r.name)
	case owner != nil:
		// Which name is nobody else's business.
		return "That key holds another name already, and a key holds one name."
	case len(r.keys) >= MaxKeys:
		return fmt.Sprintf("%s has %d keys, the most a name may have. /keys remove one first.", r.name, MaxKeys)
	}
	return ""
}

func (l *Lobby) applyKeyAdd(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	r, why := l.heldRefusal(m)
	if r == nil {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	if why := l.keyAddRefusal(r, c.Key); why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	r.keys = append(r.keys, heldKey{FP: c.Key, Label: c.Text, Added: c.At})
	l.keyNames[c.Key] = r
	l.saveRegistrationLocked(r)
	l.tellLocked(s, false, "Added the key %s to %s: sessions with it may use the name now.", c.Key, r.name)
	return nil
}

// keyRemoveRefusal is why fp may not be taken from r, "" when it may.
func keyRemoveRefusal(r *registration, fp string) string {
	switch {
	case !r.hasKey(fp):
		return fmt.Sprintf("%s has no key %s. /keys lists its keys.", r.name, fp)
	case len(r.keys) == 1:
		return fmt.Sprintf("That is the only key of %s, and a registered name keeps at least one. /unregister lets the name go.", r.name)
	}
	return ""
}

func (l *Lobby) applyKeyRemove(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	r, why := l.heldRefusal(m)
	if r == nil {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	if why := keyRemoveRefusal(r, c.Key); why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	r.keys = slices.DeleteFunc(r.keys, func(k heldKey) bool { return k.FP == c.Key })
	delete(l.keyNames, c.Key)
	l.saveRegistrationLocked(r)
	if c.Key == m.fp {
		l.tellLocked(s, false, "Removed the key %s from %s. It is the key of this session: you keep the name until you leave, and then it no longer holds it.", c.Key, r.name)
	} else {
		l.tellLocked(s, false, "Removed the key %s from %s: it no longer holds the name.", c.Key, r.name)
	}
	return nil
}

func (l *Lobby) applySetting(c *Change) error {
	r, _ := l.regs.find(c.Name)
	if r == nil || r.name != c.Name {
		return ErrNotRegistered
	}
	if c.Session != "" {
		// A holder of the name has it as registered: see takeableLocked.
		if m := l.members[c.Session]; m == nil || m.name != r.name || !r.hasKey(m.fp) {
			return ErrNotRegistered
		}
	}
	if err := checkSetting(c.Target, c.Text); err != nil {
		return err
	}
	rec := StateRecord{Kind: kindSetting, Key: settingRecordKey(r.name, c.Target)}
	if c.Text == "" {
		delete(r.settings, c.Target)
	} else {
		if _, ok := r.settings[c.Target]; !ok && len(r.settings) >= MaxSettings {
			return fmt.Errorf("%w: %s keeps %d settings at most", ErrSettingInvalid, r.name, MaxSettings)
		}
		r.settings[c.Target] = c.Text
		rec.Value, _ = json.Marshal(c.Text) // a valid string: cannot fail
	}
	l.writes.State = append(l.writes.State, rec)
	l.settingsChangedLocked(r.name)
	return nil
}

// checkSetting applies the limits on a setting: a key of printable
// characters without spaces, and a value of valid UTF-8, both bounded.
func checkSetting(key, value string) error {
	switch {
	case key == "" || len(key) > MaxSettingKey || !utf8.ValidString(key):
		return fmt.Errorf("%w: a key is 1 to %d bytes of UTF-8", ErrSettingInvalid, MaxSettingKey)
	case strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f || isUnsafeRune(r) }):
		return fmt.Errorf("%w: a key has no spaces or control characters", ErrSettingInvalid)
	case len(value) > MaxSettingValue || !utf8.ValidString(value):
		return fmt.Errorf("%w: a value is at most %d bytes of UTF-8", ErrSettingInvalid, MaxSettingValue)
	}
	return nil
}

// ---- commands ----

func (s *Session) cmdRegister(arg string) error {
	l := s.lobby
	m := l.members[s.id]
	if m == nil {
		return nil
	}
	if arg != "" && userKey(arg) != userKey(m.name) {
		l.noticeLocked(s, true, "/register holds the name you are using, %s; it takes no other.", m.name)
		return nil
	}
	if why := l.registerRefusal(m); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeRegister, Name: m.name})
	return nil
}

func (s *Session) cmdUnregister(string) error {
	l := s.lobby
	m := l.members[s.id]
	if m == nil {
		return nil
	}
	if _, why := l.heldRefusal(m); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeUnregister, Name: m.name})
	return nil
}

const keysUsage = "Usage: /keys lists your name's keys; /keys add <a line of your .pub file> adds one; /keys remove SHA256:... removes one."

func (s *Session) cmdKeys(arg string) error {
	l := s.lobby
	m := l.members[s.id]
	if m == nil {
		return nil
	}
	sub, rest, _ := strings.Cut(arg, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(sub) {
	case "", "list":
		s.keysListLocked(m)
	case "add":
		s.keysAddLocked(m, rest)
	case "remove", "rm", "delete":
		s.keysRemoveLocked(m, rest)
	default:
		l.noticeLocked(s, true, "%s", keysUsage)
	}
	return nil
}

func (s *Session) keysListLocked(m *member) {
	l := s.lobby
	r, _ := l.regs.find(m.name)
	if r == nil {
		switch {
		case m.fp == "":
			l.noticeLocked(s, false, "%s is not registered, and you connected without an SSH key.", m.name)
		case l.keyNames[m.fp] != nil:
			l.noticeLocked(s, false, "%s is not registered. The key of this session, %s, holds the name %s.", m.name, m.fp, l.keyNames[m.fp].name)
		default:
			l.noticeLocked(s, false, "%s is not registered. The key of this session is %s; /register holds %s for it.", m.name, m.fp, m.name)
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Keys of %s %s (%d of at most %d):", r.name, RegisteredMark, len(r.keys), MaxKeys)
	for _, k := range r.keys {
		fmt.Fprintf(&b, "\n  %s", k.FP)
		if k.Label != "" {
			fmt.Fprintf(&b, "  %s", k.Label)
		}
		fmt.Fprintf(&b, "  (added %s", time.Unix(0, k.Added).UTC().Format(time.DateOnly))
		if k.FP == m.fp {
			b.WriteString("; this session")
		}
		b.WriteString(")")
	}
	if !r.hasKey(m.fp) {
		b.WriteString("\nThe key of this session is not one of them.")
	}
	l.noticeLocked(s, false, "%s", b.String())
}

func (s *Session) keysAddLocked(m *member, line string) {
	l := s.lobby
	r, why := l.heldRefusal(m)
	switch {
	case r == nil:
		l.noticeLocked(s, true, "%s", why)
		return
	case line == "":
		l.noticeLocked(s, true, "Usage: /keys add <the line of your other machine's .pub file>, such as /keys add ssh-ed25519 AAAA... you@laptop")
		return
	case l.cfg.ParseKey == nil:
		l.noticeLocked(s, true, "This server cannot read keys, so none can be added.")
		return
	}
	fp, comment, err := l.cfg.ParseKey(line)
	if err != nil {
		l.noticeLocked(s, true, "%s", Sentence(err.Error()))
		return
	}
	if why := l.keyAddRefusal(r, fp); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return
	}
	s.proposeFromLocked(Change{Type: ChangeKeyAdd, Name: m.name, Key: fp, Text: keyLabel(comment)})
}

// keyLabel is the comment of a pasted key line made fit to show: clean,
// on one line, and short.
func keyLabel(comment string) string {
	label := strings.Join(strings.Fields(CleanText(comment)), " ")
	if utf8.RuneCountInString(label) > MaxKeyLabel {
		label = string([]rune(label)[:MaxKeyLabel-1]) + "…"
	}
	return label
}

func (s *Session) keysRemoveLocked(m *member, arg string) {
	l := s.lobby
	r, why := l.heldRefusal(m)
	if r == nil {
		l.noticeLocked(s, true, "%s", why)
		return
	}
	if arg == "" || strings.ContainsAny(arg, " \t") {
		l.noticeLocked(s, true, "Usage: /keys remove SHA256:... (the fingerprint as /keys shows it)")
		return
	}
	fp := arg
	if !strings.HasPrefix(fp, "SHA256:") {
		fp = "SHA256:" + fp
	}
	if why := keyRemoveRefusal(r, fp); why != "" {
		if !r.hasKey(fp) {
			why = fmt.Sprintf("%s has no key %s. /keys lists its keys.", r.name, echo(fp))
		}
		l.noticeLocked(s, true, "%s", why)
		return
	}
	s.proposeFromLocked(Change{Type: ChangeKeyRemove, Name: m.name, Key: fp})
}

func (s *Session) cmdWhois(arg string) error {
	l := s.lobby
	if arg == "" {
		l.noticeLocked(s, true, "Usage: /whois NAME")
		return nil
	}
	name, ok := validName(arg, MaxNameLen)
	if !ok {
		l.noticeLocked(s, true, "Nobody is called %s: that is not a valid name.", echo(arg))
		return nil
	}
	id, found := l.identityLocked(name)
	if !found {
		l.noticeLocked(s, false, "Nobody is called %s: nobody online has the name, and it is not registered.", name)
		return nil
	}
	l.noticeLocked(s, false, "%s", id.describe())
	return nil
}

// ---- the Go API ----

// Identity is what the chat knows of who uses a name: whether it is
// registered, and who has it online.
type Identity struct {
	Name       string    // as registered, or as used online
	Registered bool      // held by SSH keys
	Since      time.Time // when it was registered
	Keys       int       // how many keys hold it
	Online     bool      // a session has the name now, on any node
	Key        string    // the fingerprint of that session's key, "" for none
	KeyHolds   bool      // that key is one of the name's keys
	Operator   bool      // that session is a server operator's
}

func (id Identity) describe() string {
	var b strings.Builder
	if id.Registered {
		fmt.Fprintf(&b, "%s %s is registered (since %s, %s).", id.Name, RegisteredMark, id.Since.Format(time.DateOnly), plural(id.Keys, "key"))
	} else {
		fmt.Fprintf(&b, "%s is not registered.", id.Name)
	}
	switch {
	case !id.Online:
		b.WriteString("\nNot online.")
	case id.Key == "":
		b.WriteString("\nOnline, without an SSH key.")
	case id.Registered && !id.KeyHolds:
		fmt.Fprintf(&b, "\nOnline, with the key %s, which no longer holds the name.", ShortFingerprint(id.Key))
	default:
		fmt.Fprintf(&b, "\nOnline, with the key %s.", ShortFingerprint(id.Key))
	}
	if id.Operator {
		b.WriteString("\nA server operator.")
	}
	return b.String()
}

// Whois tells who uses name, matched as names are (without case, look-alikes
// folded): false when nobody has it online and it is not registered.
func (l *Lobby) Whois(name string) (Identity, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.identityLocked(name)
}

func (l *Lobby) identityLocked(name string) (Identity, bool) {
	r, _ := l.regs.find(name)
	m, _ := l.names.find(name)
	if r == nil && m == nil {
		return Identity{}, false
	}
	var id Identity
	if r != nil {
		id.Name, id.Registered, id.Since, id.Keys = r.name, true, time.Unix(0, r.since).UTC(), len(r.keys)
	}
	if m != nil {
		id.Online, id.Key, id.Operator = true, m.fp, m.operator
		id.KeyHolds = r != nil && r.hasKey(m.fp)
		if id.Name == "" {
			id.Name = m.name
		}
	}
	return id, true
}

// HeldName is the registered name the session's SSH key holds, "" when
// its key holds none or it has no key: what Enter at an empty name prompt
// gives it.
func (s *Session) HeldName() string {
	l := s.lobby
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.members[s.id]; m != nil && m.fp != "" {
		if r := l.keyNames[m.fp]; r != nil {
			return r.name
		}
	}
	return ""
}

// Key is the fingerprint of the SSH key the session presented, "" for none.
func (s *Session) Key() string {
	l := s.lobby
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.members[s.id]; m != nil {
		return m.fp
	}
	return ""
}

// Operator reports whether the session is a server operator's.
func (s *Session) Operator() bool {
	l := s.lobby
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.members[s.id]
	return m != nil && m.operator
}

// registrationLocked is the registration of the session's name when its
// key holds it, nil otherwise. l.mu must be held.
func (s *Session) registrationLocked() *registration {
	l := s.lobby
	m := l.members[s.id]
	if m == nil || m.name == "" {
		return nil
	}
	if r, _ := l.regs.find(m.name); r != nil && r.hasKey(m.fp) {
		return r
	}
	return nil
}

// Setting reads one of the user's settings: for a registered name that
// the session's key holds, the name's (kept on every node and across
// restarts, whichever of its keys set it); otherwise the session's own,
// kept while it lasts.
func (s *Session) Setting(key string) (string, bool) {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	return s.settingLocked(key)
}

func (s *Session) settingLocked(key string) (string, bool) {
	if r := s.registrationLocked(); r != nil {
		v, ok := r.settings[key]
		return v, ok
	}
	v, ok := s.settings[key]
	return v, ok
}

// SetSetting sets one of the user's settings (see Setting); the empty
// value removes it. For a registered name it waits until the change is
// applied, and fails with ErrSettingInvalid past the limits.
func (s *Session) SetSetting(ctx context.Context, key, value string) error {
	l := s.lobby
	l.mu.Lock()
	ch, err := s.setSettingLocked(key, value)
	l.mu.Unlock()
	if ch == nil {
		return err
	}
	return l.await(ctx, ch)
}

// setSettingLocked sets a setting as SetSetting does; for a registered
// name it proposes the change and returns where its outcome will be sent
// (a command need not wait: the user's next line sees it anyway). l.mu
// must be held.
func (s *Session) setSettingLocked(key, value string) (chan error, error) {
	if err := checkSetting(key, value); err != nil {
		return nil, err
	}
	if s.closed {
		return nil, s.err
	}
	r := s.registrationLocked()
	if r == nil {
		if value == "" {
			delete(s.settings, key)
			s.loadPrefsLocked()
			return nil, nil
		}
		if _, ok := s.settings[key]; !ok && len(s.settings) >= MaxSettings {
			return nil, fmt.Errorf("%w: %d settings at most", ErrSettingInvalid, MaxSettings)
		}
		if s.settings == nil {
			s.settings = make(map[string]string)
		}
		s.settings[key] = value
		s.loadPrefsLocked()
		return nil, nil
	}
	return s.lobby.proposeWaitLocked(Change{Type: ChangeSetting, Session: s.id, Name: r.name, Target: key, Text: value}), nil
}

// Setting reads a setting of the registered name name, for the chat's own
// use (what a user set, looked up for another's action).
func (l *Lobby) Setting(name, key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.regs.find(name)
	if r == nil {
		return "", false
	}
	v, ok := r.settings[key]
	return v, ok
}
