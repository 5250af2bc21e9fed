package lobby

import (
	"errors"
	"fmt"
)

// What every front end says at the name prompt, word for word: a user of
// the TUI and a script in line mode read the same sentences, and tests wait
// for them by these names.

// Prompt is the first thing a session reads.
const Prompt = "Welcome to the Lobby. Enter your screen name:"

// nameRule is the rule for screen names (see validName).
var nameRule = fmt.Sprintf("a name is 1 to %d letters, digits, '-', '_' or '.', in one alphabet and in plain (not fullwidth or styled) form", MaxNameLen)

// NameRule is the rule for screen names as a sentence, for the prompt to
// show. Claim refuses a name that breaks it with ErrNameInvalid, which
// quotes it.
var NameRule = Sentence(nameRule)

// ErrPromptTimeout ends a session that gave no name in time: a name prompt
// holds one of the chat's slots. The front ends time their prompts.
var ErrPromptTimeout = errors.New("no name was given in time")
