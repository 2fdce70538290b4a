// A client nobody here wrote: gocql (Debian's golang-github-gocql-gocql-dev) connects
// with PasswordAuthenticator over TLS, host verification on, and runs one query.
// Settings come as a JSON object on stdin (the password never on argv); one JSON line
// with the outcome goes to stdout.
package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/gocql/gocql"
)

type config struct {
	Address    string `json:"address"`
	Port       int    `json:"port"`
	ServerName string `json:"server_name"`
	CaFile     string `json:"ca_file"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	Query      string `json:"query"`
}

func main() {
	var c config
	out := json.NewEncoder(os.Stdout)
	if err := json.NewDecoder(os.Stdin).Decode(&c); err != nil {
		out.Encode(map[string]interface{}{"ok": false, "error": err.Error()})
		return
	}
	cluster := gocql.NewCluster(c.Address)
	cluster.Port = c.Port
	cluster.Timeout = 5 * time.Second
	cluster.ConnectTimeout = 5 * time.Second
	cluster.ProtoVersion = 4
	cluster.Consistency = gocql.LocalQuorum
	cluster.DisableInitialHostLookup = false
	cluster.Authenticator = gocql.PasswordAuthenticator{Username: c.Username, Password: c.Password}
	cluster.SslOpts = &gocql.SslOptions{
		CaPath:                 c.CaFile,
		EnableHostVerification: true,
		Config:                 &tls.Config{ServerName: c.ServerName},
	}
	session, err := cluster.CreateSession()
	if err != nil {
		out.Encode(map[string]interface{}{"ok": false, "error": err.Error()})
		return
	}
	defer session.Close()
	var first string
	iter := session.Query(c.Query).Iter()
	rows := 0
	for iter.Scan(&first) {
		rows++
	}
	if err := iter.Close(); err != nil {
		out.Encode(map[string]interface{}{"ok": false, "error": err.Error()})
		return
	}
	out.Encode(map[string]interface{}{"ok": true, "rows": rows, "first": fmt.Sprint(first)})
}
