// Allowances: the share of a shared limit (shared/counters.h) one replica may use without asking
// Redis. Plain data kept in each key's and tenant's Account, and the pure decisions over it, so
// every rule is table-tested with fixed numbers and times.
//
// Budgets. Redis holds, per key or tenant and UTC day or month, the spend every replica reported
// and what each replica holds as allowance. A grant moves part of what remains into this
// replica's hold; the replica then admits requests while its allowance lasts and charges their
// cost to it locally, reporting the spend every sync interval. So the shared spend plus every hold
// never passes the limit when a grant is made, and the only way past it is a request admitted
// while some allowance was left that then cost more than was left: the total can pass the limit
// by at most the cost of the requests in flight on each replica when its allowance ran out (one
// request's cost per replica that serves one request at a time), as on a single instance. The
// price is the other way: a replica may be refused while others hold allowance they have not
// used, at most allowance_percent of what remained for each, until their holds lapse unrenewed
// (kHoldMs) or are spent.
//
// Rate limits. Redis holds the token bucket (shared/counters.cpp, the same arithmetic as
// limits/rate.h); a replica takes a few units at a time and uses them within kLeaseMs, after which
// what it did not use is dropped, never given back. So the replicas together never admit more
// than the limit; a replica may be refused while another holds at most want - 1 unused units,
// for at most kLeaseMs, after which the next report gives them back to the bucket (a busy
// replica's leases would otherwise drain it faster than it refills). Tokens are known only after
// a request ends: they are debited from the lease, which may go negative; the debt is paid into
// the bucket at the next report.
//
// Money here is in nano-dollars (1e-9 USD), what Redis counts: Lua numbers are doubles, exact to
// 2^53, which nano-dollars keep up to $9 million. A cost is rounded up and a limit down, so a
// shared budget can only err toward refusing, by less than a nano-dollar a request; the ledger
// stays exact to the pico-dollar. Reservations never reach Redis: they stay exact in
// pico-dollars, as the local windows keep them, and are rounded up once where they meet the
// grant (Spendable). Rounded once per attempt instead, a k-attempt request at a price with
// sub-nano-dollar token costs reserved up to k - 1 nano-dollars more than its settlement
// released, and that much of the allowance stayed reserved for good.
#pragma once

#include <cstdint>

#include "core/money.h"

namespace sy::limits {

// A grant that is not renewed lapses after this long (in Redis and here): a replica that stopped
// or crashed, or that no longer uses it, gives its allowance back within kHoldMs. A replica renews
// the holds it admitted a request from within the last kHoldMs.
inline constexpr int64_t kHoldMs = 5'000;
// Units taken from a shared bucket and not used within this long are dropped.
inline constexpr int64_t kLeaseMs = 1'000;

int64_t NanoCeil(core::Money m);
int64_t NanoFloor(core::Money m);
core::Money FromNano(int64_t nano);

// One budget window (a key's or tenant's UTC day or month) as this replica sees it.
struct BudgetAllowance {
  int64_t index = -1;          // the period (limits/budget.h PeriodIndex) it belongs to
  int64_t granted = 0;         // nano-USD still to spend; negative: spent past the allowance
  int64_t reserved_pico = 0;   // budget_check estimate: held by attempts in flight (exact)
  int64_t unreported = 0;      // spent here, not yet added to the shared spend
  int64_t valid_until_ms = 0;  // the hold lapses then unless a report renews it
  int64_t used_at_ms = 0;      // when a request was last admitted from it (renewals need one)
  int64_t shared_spent = 0;    // the shared spend when Redis last answered
  int64_t shared_others = 0;   // and what other replicas held then
};

// One rate bucket (requests or tokens per minute) as this replica sees it.
struct RateLease {
  int64_t units = 0;           // taken and not yet used; tokens: negative is a debt to pay
  int64_t valid_until_ms = 0;  // unused units are dropped then
  int64_t remaining = 0;       // the shared bucket's whole units when Redis last answered
  int64_t reset_ms = 0;        // and the time until it was full again
  int64_t wait_ms = 0;         // and the time until it held one unit again
};

// Starts the window over when `index` is a later period (what was spent and reported in the
// old one no longer counts); reservations stay, they belong to requests still running. An
// earlier `index` (a request received before the period ended) changes nothing.
void RollAllowance(BudgetAllowance& a, int64_t index);

// What the window has to spend at `now_ms`: what was granted less what is reserved (rounded up
// to the nano-dollar); 0 once the hold lapsed.
int64_t Spendable(const BudgetAllowance& a, int64_t now_ms);

// Does the allowance cover a request needing `need` nano-USD (budget_check after: 1, "some left")?
bool Covers(const BudgetAllowance& a, int64_t need, int64_t now_ms);

// How much to ask Redis for: `need` at least, else allowance_percent of what remains by the last
// shared figures (so grants shrink near the limit and every replica then asks each time).
int64_t BudgetWant(int64_t limit, const BudgetAllowance& a, int64_t need, int allowance_percent);

// How many units to take from a bucket of `per_minute`: allowance_percent of it, at least one.
int64_t RateWant(int64_t per_minute, int allowance_percent);

// Units usable at `now_ms`: 0 once the lease lapsed (a debt stays: it is owed to the bucket).
int64_t Usable(const RateLease& l, int64_t now_ms);

// What the lease owes the shared bucket at `now_ms`, as a debit: a token debt (positive), units
// that lapsed unused and go back (negative), or 0.
int64_t Settling(const RateLease& l, int64_t now_ms);

}  // namespace sy::limits
