package siem

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/jitaccess/jitaccess/config"
)

// Destinations makes the destinations the configuration turns on (none when both are off).
func Destinations(c config.Config) ([]Destination, error) {
	var out []Destination
	if c.SIEMSyslogAddr != "" {
		host, _, _ := net.SplitHostPort(c.SIEMSyslogAddr)
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if c.SIEMSyslogCA != "" {
			pem, err := os.ReadFile(c.SIEMSyslogCA)
			if err != nil {
				return nil, fmt.Errorf("JIT_SIEM_SYSLOG_CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("JIT_SIEM_SYSLOG_CA: no PEM certificate in the file")
			}
			cfg.RootCAs = pool
		}
		out = append(out, &Syslog{Addr: c.SIEMSyslogAddr, TLS: cfg})
	}
	if c.SIEMHTTPURL != "" {
		out = append(out, &JSONLines{URL: c.SIEMHTTPURL, Token: c.SIEMHTTPToken})
	}
	return out, nil
}
