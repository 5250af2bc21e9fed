// Package store keeps the chat's history in SQLite. (Fuller text follows.)
package store
