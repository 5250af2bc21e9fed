// Package deploy holds no code: it is the folder of the files that install
// and run chatroom as a service (chatroom.service, for systemd) and in a
// container (Dockerfile). Its tests check them on machines without systemd
// running or a container engine: deploy_test.go.
package deploy
