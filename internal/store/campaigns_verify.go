package store

// The ledger checks of the campaigns (migration 028), run with the others
// by VerifyLedger (`sportello verify`, the nightly schedule, the tests).
var campaignInvariants = []ledgerInvariant{
	{"campaign_budget_funded", "every published or closed campaign was funded with its budget, exactly, and a draft with nothing",
		`SELECT format('campaign %s (%s): budget %s, funded %s', c.id, c.status, c.budget_cents, coalesce(t.s, 0))
		 FROM campaigns c LEFT JOIN (SELECT to_account, sum(amount_cents) AS s FROM transfers
		   WHERE kind = 'campaign_budget' GROUP BY to_account) t ON t.to_account = 'campaign:' || c.id::text
		 WHERE coalesce(t.s, 0) <> CASE c.status WHEN 'draft' THEN 0 ELSE c.budget_cents END
		 ORDER BY c.id`},
	{"campaign_credit_has_transfer", "every campaign credit has its transfer from the campaign to the merchant",
		`SELECT format('campaign credit %s: %s cents, transfer %s %s -> %s of %s', cc.id, cc.credit_cents, t.kind, t.from_account, t.to_account, t.amount_cents)
		 FROM campaign_credits cc JOIN transfers t ON t.id = cc.transfer_id
		 WHERE t.kind <> 'campaign_credit' OR t.amount_cents <> cc.credit_cents
		    OR t.from_account <> 'campaign:' || cc.campaign_id::text OR t.to_account <> 'merchant:' || cc.merchant_id
		 ORDER BY cc.id`},
	{"campaign_credit_transfer_has_credit", "every campaign credit transfer belongs to a recorded credit",
		`SELECT format('transfer %s (%s cents) has no campaign credit', t.idempotency_key, t.amount_cents)
		 FROM transfers t WHERE t.kind = 'campaign_credit'
		   AND NOT EXISTS (SELECT 1 FROM campaign_credits cc WHERE cc.transfer_id = t.id)
		 ORDER BY t.id`},
	{"campaign_credit_claimed_by_its_shop", "every campaign credit on a claim is on its own shop's claim to the campaign's municipality, for its amount",
		`SELECT format('campaign credit %s (%s cents, shop %s, %s) on invoice %s (%s %s, %s, line of %s cents)',
		   cc.id, cc.credit_cents, cc.merchant_id, cc.municipality_id, i.id, i.kind, coalesce(i.merchant_id, i.cooperative_id), i.municipality_id, l.amount_cents)
		 FROM invoice_lines l JOIN campaign_credits cc ON cc.id = l.campaign_credit_id JOIN invoices i ON i.id = l.invoice_id
		 WHERE i.kind <> 'merchant' OR i.merchant_id IS DISTINCT FROM cc.merchant_id
		    OR i.municipality_id <> cc.municipality_id OR l.amount_cents <> cc.credit_cents
		 ORDER BY cc.id`},
	{"campaign_within_budget", "no campaign credited more than its budget, and a closed one holds nothing",
		`SELECT format('campaign %s (%s): budget %s, credited %s, left %s', c.id, c.status, c.budget_cents, coalesce(cr.s, 0), coalesce(a.balance_cents, 0))
		 FROM campaigns c LEFT JOIN (SELECT campaign_id, sum(credit_cents) AS s FROM campaign_credits GROUP BY campaign_id) cr ON cr.campaign_id = c.id
		 LEFT JOIN accounts a ON a.id = 'campaign:' || c.id::text
		 WHERE coalesce(cr.s, 0) > c.budget_cents OR (c.status = 'closed' AND coalesce(a.balance_cents, 0) <> 0)
		 ORDER BY c.id`},
	{"campaign_cap_per_person", "no person was credited more than the campaign's cap",
		`SELECT format('campaign %s: a person credited %s, cap %s', c.id, x.s, c.rule->>'cap_per_person_cents')
		 FROM (SELECT campaign_id, person_key, sum(credit_cents) AS s FROM campaign_credits GROUP BY campaign_id, person_key) x
		 JOIN campaigns c ON c.id = x.campaign_id
		 WHERE x.s > (c.rule->>'cap_per_person_cents')::bigint
		 ORDER BY c.id`},
}

func init() { ledgerInvariants = append(ledgerInvariants, campaignInvariants...) }
