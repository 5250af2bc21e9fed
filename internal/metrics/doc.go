// Package metrics is what an operator sees of a running chatroom server
// without joining the chat: Prometheus metrics (names start chatroom_, plus
// Go's runtime and the process) at /metrics, and /healthz, on a listener of
// their own that never shares the SSH port.
//
// The chat's packages do not import it, nor Prometheus: lobby, sshserver and
// store each declare the few calls they make (lobby.Observer,
// sshserver.Observer, store.WithCommitTimer) and *Metrics answers them.
// Every call on the chat's hot path is a few atomic additions; nothing here
// takes a lock a session waits on.
//
// No label takes a value a user chose: labels are fixed sets (a session's
// kind, a refusal's reason, a line's kind), so the number of series is
// bounded whatever happens in the chat. Room and user names never appear.
package metrics
