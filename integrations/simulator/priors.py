"""Every parameter of the simulated MSP, with the published figure it comes from.

References are to the rows of /work/shared/MSP_WORLD.md ("§2 Per user/month" = section 2,
row "Per user/month"). Where that file marks a figure **not found**, the value is
"chosen:" with the reason. These are priors: the world draws from them, so no two clients
look alike, but the book as a whole lands on the published figures.
"""

from __future__ import annotations

from decimal import Decimal

# --- §1 Client base -------------------------------------------------------------------
# §1 Client size + Heavy tail: US firm sizes are Zipf (P(size > s) ∝ 1/s) and ~50% of an
# MSP's clients have < 10 users. A Pareto tail with alpha 1 and a 5-user floor puts half the
# clients under 10 users; the cap keeps one client from being larger than a mid-market firm.
USERS_PARETO_ALPHA = 1.0
USERS_MIN = 5.0
USERS_SMALLEST = 2          # the floor is soft: a few 2-4 user offices exist
USERS_MAX = 400
# §1 Endpoints/user: workers use >= 3 devices, 80% get > 1 company device; the one MSP-side
# example is 40 managed devices for 70 staff. Chosen: 0.9-1.3 managed workstations per user
# (shared desktops, second laptops), servers and network gear on top.
WORKSTATIONS_PER_USER = (0.9, 1.3)
SERVERS_PER_USER = 1 / 25   # chosen: a server room only from ~8 users; cloud-first below
SERVER_MIN_USERS = 8
NETWORK_DEVICES = (2, 1 / 15)  # chosen: firewall + switch, one more device per 15 users
# Chosen: staff turnover ~1.2%/month (~14%/yr, BLS JOLTS-like for small firms) and small
# net growth; drives seat INCREASE/DECREASE changes.
USER_LEAVE_RATE = 0.012
USER_GROWTH_MEAN, USER_GROWTH_SD = 0.002, 0.004
# Chosen: 4-5 year workstation lifecycle -> ~2% of workstations refreshed a month.
REFRESH_RATE = 0.02
# §1 Clients per MSP / Typical MSP: a fixed book of N clients, most already signed when the
# window opens (chosen: 80%), the rest onboarded during it.
EXISTING_SHARE = 0.8
EXISTING_TENURE_MONTHS = (3, 96)
# The sales pipeline at the world's end (pipeline.py): clients sign at the world's own
# onboarding rate (the in-window new clients a month above, so no further figure) and go live
# after a notice of 14-42 days (2-6 weeks, uniform): chosen, no published figure.
PIPELINE_NOTICE_DAYS = (14, 42)
# Chosen: a typical SMB MSP book, healthcare/professional services heavy.
INDUSTRIES = [
    ("Healthcare", 16), ("Legal", 10), ("Accounting & Finance", 12), ("Construction", 9),
    ("Manufacturing", 9), ("Nonprofit", 8), ("Real Estate", 6), ("Retail", 6),
    ("Professional Services", 12), ("Education", 4), ("Logistics", 4), ("Hospitality", 4),
]
BRANCH_SITE_USERS = 30      # chosen: clients above 30 users have 1-3 branch offices

# --- §2 Pricing and terms ----------------------------------------------------------------
# §2 Per user/month: $150-185 average, $185-250 healthy, $250-325 best; range $50-300.
PER_USER_PRICE_BANDS = [((100, 150), 30), ((150, 185), 45), ((185, 250), 20), ((250, 325), 5)]
# §2 Per device/month: workstation $60-85; server $100-395.
WORKSTATION_PRICE = (60, 85)
SERVER_PRICE = (100, 395)
SERVER_PRICE_MODE = 175     # chosen: most servers priced near the low end of the range
# §2 Hourly T&M: $125-175 standard; $185 senior; $225 project.
HOURLY_RATE = (125, 175)
SENIOR_RATE = 185
PROJECT_RATE = (185, 225)
# §2 After-hours: 1.5x evenings (2x weekends); we price all after-hours work at 1.5x.
AFTER_HOURS_MULTIPLIER = Decimal("1.5")
# §2 Block hours: 14-20% below list.
BLOCK_DISCOUNT = (0.14, 0.20)
BLOCK_HOURS_CHOICES = [(5, 30), (10, 35), (15, 15), (20, 15), (40, 5)]
# Chosen (no survey of agreement mix): most MSPs sell per-seat agreements; small offices
# lean to T&M and blocks. Weights by size band: (per_user, per_device, block, T&M).
CONTRACT_MIX_SMALL = (30, 25, 17, 28)   # < 10 users
CONTRACT_MIX_LARGE = (50, 38, 7, 5)
# §2 Escalator: 3%/yr US (5% elsewhere) or CPI; MSPs report 0-10%.
ESCALATORS = [(3, 65), (5, 12), (4, 5), (0, 18)]
# §2 Term: 3-yr standard; 1-yr +20%; auto-renew 1 yr. Chosen: 50% 3-yr, 15% 2-yr, 35% 1-yr;
# 80% auto-renew.
TERMS_YEARS = [(3, 50), (2, 15), (1, 35)]
AUTO_RENEW_SHARE = 0.8
# Chosen (MSP_WORLD.md has no figure): nonprofits and schools often negotiate a discount on
# the managed-services fee, and some other clients win one for a multi-year commitment; it is
# written into the agreement (billableContract.discountRate) and shown on each recurring
# invoice as a discount line. (share of such per-seat clients, rates in %)
DISCOUNTS = {"Nonprofit": (0.6, (10, 15)), "Education": (0.5, (10,))}
MULTI_YEAR_DISCOUNT = (0.15, (5,))  # 3-year agreements only
# §2 Payment: billed monthly in advance; Net 30 norm.
NET_TERMS_DAYS = 30
# §2 DSO: MSPs wait >= 60 days, 81% paid late; Americas DSO 48 vs 28-day terms. Payer
# profiles (share, mean days from invoice to payment): the mix averages ~37 days, so about
# half of the invoices are paid after their Net 30 due date.
PAYER_PROFILES = [("prompt", 35, 18), ("normal", 40, 34), ("slow", 18, 55), ("very_slow", 7, 85)]
PAYMENT_DAYS_SD = 6
PAYMENT_HEALTH_DAYS = 6  # chosen: an unhappy client pays ~6 days later per unit of lost health
# §5 Bad debt: MSP figure not found; professional services 1-3%, US B2B 2.7-8% written off.
# Chosen: ~0.4% of invoices of healthy clients never paid, 2.5% when health is poor, and a
# quarter of churned clients leave their last invoices unpaid.
BAD_DEBT_RATE = 0.004
BAD_DEBT_RATE_POOR = 0.025
BAD_DEBT_CHURNED = 0.25

# --- §3 Service desk ---------------------------------------------------------------------
# §3 Ticket rate: 1.7-2.7 per endpoint (period lost in the source); 1.25/user/month in an
# enterprise example. Tuned so a typical client logs ~0.5-1.5 tickets per endpoint a month:
# reactive incidents plus proactive service requests.
REACTIVE_PER_ENDPOINT = 0.52
PROACTIVE_PER_ENDPOINT = 0.16
# §1 Heavy tail: problem clients use 3-5x the average hours -> lognormal client factor.
CLIENT_TICKET_SIGMA = 0.45
# Onboarding: chosen x2.0 and x1.4 in a new client's first two months (discovery, fixes).
ONBOARDING_MULTIPLIER = (2.0, 1.4)
# §3 Reactive vs proactive: not found. Chosen: ~70% reactive for a healthy client (the two
# rates above), shifting up as client health falls (REACTIVE_HEALTH_SLOPE, log scale).
REACTIVE_HEALTH_SLOPE = 0.3
# §3 Category mix: passwords 28%, access 18%, VPN 12%, printers 9%, app errors 8%,
# engineering 25%.
REACTIVE_CATEGORIES = [
    ("Passwords", 28), ("Access", 18), ("VPN", 12), ("Printers", 9), ("Application", 8),
    ("Engineering", 25),
]
PROACTIVE_CATEGORIES = [("User Onboarding", 18), ("Hardware", 20), ("Maintenance", 22),
                        ("Change Request", 30), ("Security Review", 10)]
# §3 Priority mix: not found; illustrative P1-P4 5/20/50/25 (KPI Tree), used as is.
PRIORITIES = [("Urgent", 5), ("High", 20), ("Medium", 50), ("Low", 25)]
# Chosen: priority by kind of ticket so the overall mix lands on 5/20/50/25: engineering
# incidents (servers, network) run hotter, service requests cooler. (Urgent, High, Medium, Low)
PRIORITY_BY_GROUP = {"engineering": (14, 35, 41, 10), "incident": (3, 20, 57, 20), "request": (0, 8, 45, 47)}
# Chosen: how tickets arrive; RMM alerts open engineering tickets, some around the clock.
SOURCES_BY_GROUP = {
    "engineering": (("AGENT", "EMAIL", "PHONE"), (45, 25, 30)),
    "incident": (("EMAIL", "PHONE", "FORM"), (45, 35, 20)),
    "request": (("FORM", "EMAIL", "PHONE"), (50, 40, 10)),
}
ALERTS_AROUND_THE_CLOCK = 0.3
# §3 First response: P1 15-60 min; P2 1-2 h; P3 4 business h; P4 1 business day.
# (minutes, business-hours clock?)
FIRST_RESPONSE_TARGET = {"Urgent": (30, False), "High": (90, False), "Medium": (240, True), "Low": (600, True)}
# §3 Resolution: P1 4-8 h; P2 same day; P3 next day; P4 2-5 days.
RESOLUTION_TARGET = {"Urgent": (360, False), "High": (480, False), "Medium": (600, True), "Low": (1800, True)}
# §3 SLA compliance: best > 95%; 92-95% often optimal. Base violation odds per target.
FR_VIOLATION_BASE = 0.03
RES_VIOLATION_BASE = 0.035
SLA_HEALTH_SLOPE = 0.55     # chosen: violations ~1.7x per unit of lost client health
# §3 Reopens: 3.1% (260 firms); target < 5%.
REOPEN_RATE = 0.031
ESCALATION_RATE = {"Urgent": 0.35, "High": 0.2, "Medium": 0.07, "Low": 0.03}  # chosen
BUSY_DAY_SLA = 1.25  # chosen: SLA misses are a quarter likelier on Mondays and Crash Wednesdays
# §3 CSAT: IT services 95% positive; MSP median 85%; response rate ~20%.
CSAT_RESPONSE_RATE = 0.2
CSAT_BASE = [(5, 74), (4, 17), (3, 5), (2, 2), (1, 2)]
# Chosen: a ticket's experienced quality shifts the scores (log-odds per score step):
# client health helps, an SLA miss or a reopen hurts (§6 clustered negative CSAT).
CSAT_QUALITY = {"health": 0.5, "violated": -1.6, "reopen": -0.9, "noise": 0.5, "slope": 0.45}
# §3 Weekly/seasonal: Monday peak, Friday low, Christmas week lowest, early-January peak,
# "Crash Wednesday" after Patch Tuesday, post-holiday password resets. No MSP numbers:
# chosen multipliers (call-centre shape).
WEEKDAY_WEIGHTS = (1.32, 1.12, 1.05, 1.0, 0.8, 0.1, 0.06)
PATCH_WEDNESDAY = 1.35
HOLIDAY_WEIGHT = 0.1
CHRISTMAS_WEEK = 0.4
EARLY_JANUARY = 1.35
POST_HOLIDAY_PASSWORD_BOOST = 2.5
# §3 Time per ticket: < 1 h average (was 1.75 h); L1 10-15 min. Median minutes per
# category before the technician's speed and noise (lognormal sigma 0.55).
MINUTES_BY_CATEGORY = {
    "Passwords": 12, "Access": 18, "VPN": 24, "Printers": 24, "Application": 27,
    "Engineering": 45, "User Onboarding": 60, "Hardware": 45, "Maintenance": 36,
    "Change Request": 27, "Security Review": 36, "Project": 150,
}
WORK_SIGMA = 0.55
WORK_STEP_MINUTES = 3       # qty is written in 0.05 h steps
# §3 Reactive effort target <= 0.25 h/endpoint/month: the rates and minutes above give
# ~0.2-0.3 for a typical client.
ESCALATED_WORK = 1.6  # chosen: an escalated ticket takes 60% longer
URGENT_WORK = 1.4
ONSITE_SHARE = {"Printers": 0.06, "Engineering": 0.06, "Hardware": 0.25, "User Onboarding": 0.1}
# Chosen: a tenth of change requests/hardware work is outside a per-seat agreement.
OUT_OF_SCOPE_SHARE = 0.1

# --- §4 Labour ---------------------------------------------------------------------------
# §4 Endpoints/tech: 280-320 average; 230-280 healthy. One technician per 250-300.
ENDPOINTS_PER_TECH = (250, 300)
MIN_TECHNICIANS = 3
# §4 Tickets/tech/day: tier 1 10-20, tier 2 5-10, tier 3 ~5 -> more juniors than seniors.
TIER_SHARES = [(1, 55), (2, 30), (3, 15)]
# §4 Burdened hourly: ~$41-58 (BLS median $60,340 x 1.42 benefits / 2,080 h, up to 2x).
BURDENED_COST = {1: (41, 47), 2: (47, 53), 3: (53, 58)}
TECH_SPEED_SIGMA = 0.2      # chosen: minutes-per-ticket multiplier, lognormal
CLIENTS_PER_ACCOUNT_MANAGER = 80  # chosen
# Chosen: share of a client's tickets its primary technician takes (small clients, and
# clients of PRIMARY_POD_USERS users or more who are served by a pod).
PRIMARY_TECH_SHARE = (0.6, 0.3)
PRIMARY_POD_USERS = 50

# --- §5 Finances ---------------------------------------------------------------------------
# §5 Tool costs: Defender for Business $3/user, security training $0.45-1.25/user; RMM/EDR/
# backup prices not found. Chosen: M365 licences resold at cost ($12.50 or $22/user), EDR
# $5/endpoint, RMM $3.50/endpoint.
LICENSE_PER_USER = [(Decimal("22.00"), 60), (Decimal("12.50"), 40)]
EDR_PER_ENDPOINT = Decimal("5.00")
RMM_PER_ENDPOINT = Decimal("3.50")
HARDWARE_COST = {"Workstation": (850, 1650), "Server": (3500, 9000), "Network Device": (400, 2200)}
HARDWARE_VIA_MSP = 0.6      # chosen: share of new devices the MSP procures and rebills
# §5 Revenue mix: recurring 55-65% average, advised 60/20/20. Chosen project frequency:
# ~0.45 projects a year for a 20-user client, scaled with size.
PROJECT_RATE_PER_YEAR = 0.45
PROJECT_NAMES = ["Server migration", "Microsoft 365 migration", "Network refresh", "Office move",
                 "Firewall replacement", "Backup and DR implementation", "Wi-Fi upgrade",
                 "Windows 11 upgrade", "VoIP installation"]
# Chosen: projects done at one office; at a client with branches, half of them are at a
# branch and invoiced to that branch (a QuickBooks sub-customer).
SITE_PROJECTS = ("Network refresh", "Office move", "Wi-Fi upgrade", "VoIP installation", "Firewall replacement")
SUBCONTRACT_RATE_PER_YEAR = 0.08  # chosen: cabling and courier jobs
SUBCONTRACT_BILLABLE = 0.7
ACCESSORY_PURCHASE_RATE = 0.1  # chosen: card purchases for a client in a month
ACCESSORY_BILLABLE = 0.5
ONSITE_TIME_ACTIVITY_SHARE = 0.5  # chosen: onsite visits also entered as QuickBooks time
VOID_RATE = 0.004  # chosen: recurring invoices voided and reissued
GOODWILL_SHARE = 0.01  # chosen: covered worklogs marked IGNORED (no charge)
# Chosen (no published figure): legitimate credit memos. An urgent ticket that missed its
# resolution target earns a service credit of 10% of the month's recurring fee when the
# client asks for it (chosen: 3 times in 10; SLA clauses commonly credit 5-10%); a 1-2
# survey score earns a goodwill hour 2 times in 10.
SLA_CREDIT_SHARE = 0.3
SLA_CREDIT_SHARE_OF_FEE = Decimal("0.10")
GOODWILL_CREDIT_SHARE = 0.2
GOODWILL_CREDIT_HOURS = 1
# Chosen: a California MSP's sales tax on resold hardware (services are not taxed): 8.25%.
SALES_TAX_RATE = Decimal("8.25")
PENDING_SHARE = 0.4  # chosen: an unbilled worklog left PENDING rather than APPROVED
# Project sizes (hours = base + per user, times a spread), chosen.
ONBOARDING_HOURS = (4, 0.6)
PROJECT_HOURS = (12, 1.2)
# Chosen monthly overheads with no customer (rent etc.) scale with technicians.
OVERHEAD_PER_TECH = {"Rent": Decimal(650), "Insurance": Decimal(120), "Utilities": Decimal(90),
                     "SuperOps PSA": Decimal(129), "Training": Decimal(60)}

# --- §6 Churn ------------------------------------------------------------------------------
# §6 Annual churn ~12% (the --churn-rate default); renewal benchmark 85-90%.
DEFAULT_CHURN_RATE = 0.12
# §6 Drivers: slow/unresponsive service, cheaper rival at renewal, budget cuts/new leadership,
# overloaded techs. §6 Lead signals: falling engagement, late payments, skipped QBRs,
# clustered negative CSAT, reopens. Weights of the logistic hazard (per standardised driver).
HAZARD_WEIGHTS = {"sla": 1.0, "csat": 1.1, "reactive": 0.9, "late": 0.7, "qbr": 0.5,
                  "renewal": 1.6, "noise": 0.6}
# Chosen: hidden health is an AR(1) around the client's own level with rare shocks
# (champion leaves, botched PC install: §6 Drivers).
HEALTH_MEAN = (0.3, 0.8)
HEALTH_REVERSION = 0.12
HEALTH_SD = 0.22
HEALTH_SHOCK_RATE = 0.025
HEALTH_SHOCK = -1.2
# Chosen: share of departed clients (owing nothing) a bookkeeper makes inactive in
# QuickBooks by the end of the window; Intuit renames them "<name> (deleted)".
QB_INACTIVATE_CHURNED = 0.8
NEW_CLIENT_GRACE_MONTHS = 3  # chosen: nobody leaves during onboarding
CHURN_REASONS = {
    "sla": "Unhappy with response times", "csat": "Poor service experience",
    "reactive": "Too many recurring problems", "late": "Budget cuts",
    "qbr": "No strategic engagement", "renewal": "Moved to a cheaper provider at renewal",
    "noise": "New leadership chose another provider",
}
# QBR cadence (months) by size: quarterly for >= 25 users, twice a year for 10-24, yearly below.
QBR_CADENCE = ((25, 3), (10, 6), (0, 12))
# Chosen: a due QBR is skipped with probability sigmoid(-(a + b * health)): rarely for a
# healthy client, often for an unhappy one (§6 lead signal: skipped QBRs).
QBR_SKIP = (1.4, 1.6)
# Chosen: other touchpoints a month (Poisson means); unhappy clients call more.
CALLS, CALLS_UNHAPPY, EMAILS, SITE_VISITS, SITE_VISIT_USERS = 0.4, 0.3, 0.8, 0.15, 25

# --- §7 Revenue leakage -------------------------------------------------------------------
# §7 MSP billing 5-15% of revenue; unbilled time 10-30%; ~15% of chargeable hours unbilled;
# seat mismatches 85% under-billed. The --leak-rate is the share of eligible opportunities
# that leak (default 5%), see leaks.py for what an opportunity is.
DEFAULT_LEAK_RATE = 0.05
RATE_CUT_CHOICES = [Decimal("0.05"), Decimal("0.10"), Decimal("0.15"), Decimal("0.20")]
RATE_CUT_MONTHS = (1, 6)
LAPSE_MONTHS = (1, 4)
LICENSE_LAG_MONTHS = (1, 6)  # chosen: a licence rebill stuck at the old count until noticed
