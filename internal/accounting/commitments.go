package accounting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Budget commitments ("impegni di spesa"): before a call's budget is
// booked in the platform's ledger, the municipality's accounting system
// commits it. The platform sends
//
//	POST /v1/commitments  (Idempotency-Key required: "funding:<call id>")
//
// and books the budget only on the answer 201 with the commitment's number.
// A refusal (4xx: an invalid request, 409 budget_exceeded when the
// municipality's appropriation cannot cover it) commits nothing and is not
// bound to the key: the same key may be used again once the request is
// changed. A confirmed commitment is bound to its key: the same key with
// the same request answers the same commitment (Idempotent-Replayed), with
// another request 422 idempotency_key_reused; another key for a call
// already committed is 409 duplicate_reference.

// CommitmentRequest asks to commit a call's budget.
type CommitmentRequest struct {
	District     string `json:"district"`
	Municipality string `json:"municipality"`
	CallID       string `json:"call_id"` // the platform's reference of the commitment
	Description  string `json:"description"`
	AmountCents  int64  `json:"amount_cents"`
}

// Commitment is a confirmed budget commitment.
type Commitment struct {
	Number       string    `json:"number"` // e.g. IMP-2026-000001
	CallID       string    `json:"call_id"`
	Municipality string    `json:"municipality"`
	AmountCents  int64     `json:"amount_cents"`
	CommittedAt  time.Time `json:"committed_at"`
}

// DefaultCommitmentLimit is the sandbox's default appropriation of each
// municipality: the sum of the budgets it commits (EUR 1,000,000).
const DefaultCommitmentLimit = 1_000_000_00

// Commit asks the accounting system to commit in's budget under key; the
// answer is a confirmed commitment or a *CallError (Permanent for a refusal).
func (c *Client) Commit(ctx context.Context, key string, in CommitmentRequest) (Commitment, error) {
	var out Commitment
	return out, c.post(ctx, "commit", "/v1/commitments", key, in, &out)
}

// Commitments returns a copy of every confirmed commitment (sandbox).
func (s *Server) Commitments() []Commitment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.commitments)
}

// Commits reports how many commit requests carried the idempotency key.
func (s *Server) Commits(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitRequests[key]
}

func (s *Server) commitLocked(body []byte) (int, any) {
	var in CommitmentRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return http.StatusBadRequest, apiError{Code: "bad_json", Message: err.Error()}
	}
	f := map[string]string{}
	if strings.TrimSpace(in.CallID) == "" || len(in.CallID) > 100 {
		f["call_id"] = "required, at most 100 characters"
	}
	if strings.TrimSpace(in.Municipality) == "" {
		f["municipality"] = "required"
	}
	if in.AmountCents <= 0 {
		f["amount_cents"] = "must be positive"
	}
	if len(f) > 0 {
		return http.StatusUnprocessableEntity, apiError{Code: "validation_failed", Message: "invalid commitment", Fields: f}
	}
	if _, ok := s.commitments[in.CallID]; ok {
		return http.StatusConflict, apiError{Code: "duplicate_reference", Message: "this call's budget was already committed with another key"}
	}
	var committed int64
	for _, c := range s.commitments {
		if c.Municipality == in.Municipality {
			committed += c.AmountCents
		}
	}
	if committed+in.AmountCents > s.opts.CommitmentLimit {
		return http.StatusConflict, apiError{Code: "budget_exceeded",
			Message: fmt.Sprintf("the municipality's appropriation covers %d more cents", max(s.opts.CommitmentLimit-committed, 0))}
	}
	s.commitSeq++
	now := s.opts.Now().UTC().Truncate(time.Millisecond)
	c := &Commitment{Number: fmt.Sprintf("IMP-%d-%06d", now.Year(), s.commitSeq), CallID: in.CallID,
		Municipality: in.Municipality, AmountCents: in.AmountCents, CommittedAt: now}
	s.commitments[in.CallID] = c
	return http.StatusCreated, *c
}
