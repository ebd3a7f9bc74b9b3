package cluster

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// Proxy is the small reverse proxy in front of the API processes: round
// robin over the backends, and a backend that refuses connections (killed,
// restarting) is left out for a few seconds while the request goes to the
// next one. A request that reached a backend which then died is answered
// 502, as a load balancer would: clients send it again with the same
// Idempotency-Key. It sets X-Forwarded-For, so the APIs (which trust
// 127.0.0.1 as a proxy) see the client's address.
type Proxy struct {
	backends []*backend
	next     atomic.Uint64
	rp       *httputil.ReverseProxy
	logger   *slog.Logger
}

type backend struct {
	host      string // host:port
	downUntil atomic.Int64
}

// maxBufferedBody is the largest request body the proxy keeps to send it
// again to another backend (bigger ones go to one backend only).
const maxBufferedBody = 8 << 20

// downFor is how long a backend that refused a connection is left out.
const downFor = 2 * time.Second

// NewProxy returns a proxy to the given host:port backends.
func NewProxy(backends []string, logger *slog.Logger) *Proxy {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{logger: logger}
	for _, b := range backends {
		p.backends = append(p.backends, &backend{host: b})
	}
	base := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: "backend"}) // the transport picks the host
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host
		},
		Transport: roundTripper{p: p, base: base},
		ErrorLog:  slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.Warn("proxy: no answer from the API", "path", r.URL.Path, "err", err)
			http.Error(w, "bad gateway", http.StatusBadGateway)
		},
	}
	return p
}

// ServeHTTP buffers a small body (so the request can be sent again to
// another backend) and proxies the request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength >= 0 && r.ContentLength <= maxBufferedBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	p.rp.ServeHTTP(w, r)
}

type roundTripper struct {
	p    *Proxy
	base http.RoundTripper
}

// RoundTrip tries the backends in round-robin order, skipping those
// recently down; a refused connection (nothing was sent) moves on to the
// next backend.
func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	n := len(rt.p.backends)
	first := int(rt.p.next.Add(1) % uint64(n))
	now := time.Now().UnixNano()
	order := make([]*backend, 0, n)
	var down []*backend
	for i := range n {
		b := rt.p.backends[(first+i)%n]
		if b.downUntil.Load() > now {
			down = append(down, b)
			continue
		}
		order = append(order, b)
	}
	order = append(order, down...) // the last resort: all of them down
	var lastErr error
	for i, b := range order {
		out := req
		if i > 0 {
			if req.GetBody == nil && req.Body != nil && req.Body != http.NoBody {
				break // the body is gone: cannot send it again
			}
			out = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				out.Body = body
			}
		} else {
			out = req.Clone(req.Context())
		}
		out.URL.Host = b.host
		resp, err := rt.base.RoundTrip(out)
		if err == nil {
			b.downUntil.Store(0)
			return resp, nil
		}
		lastErr = err
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			return nil, err // sent, maybe processed: the client decides
		}
		b.downUntil.Store(time.Now().Add(downFor).UnixNano())
		rt.p.logger.Info("proxy: backend refused the connection; trying the next", "backend", b.host)
	}
	return nil, lastErr
}
