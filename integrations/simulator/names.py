"""Names and text of the simulated MSP: client companies, people, ticket subjects and
requester messages, worklog notes, survey comments and account-management summaries."""

from __future__ import annotations

import random
import re
import unicodedata

FIRST_NAMES = [
    "Dana", "Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Priya", "Mateo", "Sofia", "Liam", "Noah", "Emma", "Olivia", "Ava", "Ethan", "Lucas",
    "Mia", "Amara", "Kenji", "Chen", "Fatima", "Omar", "Elena", "Marcus", "Grace", "Hannah",
    "Diego", "Nadia", "Tomas", "Ingrid", "Rahul", "Aisha", "Ben", "Carla", "Derek", "Erin",
]
LAST_NAMES = [
    "Wu", "Patel", "Garcia", "Smith", "Nguyen", "Kim", "Johnson", "Lopez", "Brown", "Okafor",
    "Rossi", "Müller", "Cohen", "Singh", "Martin", "Walker", "Young", "Hill", "Scott", "Green",
    "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Perez", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Sanchez", "Morris", "Reed",
]
_PLACES = [
    "Acme", "Harbor", "Summit", "Cedar", "Maple", "Riverside", "Lakeside", "Granite", "Pioneer",
    "Northgate", "Bayview", "Highland", "Willow", "Evergreen", "Redwood", "Silverline", "Oakmont",
    "Bluewater", "Westfield", "Eastside", "Brightpath", "Keystone", "Ironwood", "Sunrise",
    "Crescent", "Liberty", "Heritage", "Meridian", "Pinnacle", "Horizon", "Sterling", "Coastal",
    "Prairie", "Valley", "Canyon", "Falcon", "Aspen", "Birch", "Copper", "Juniper", "Magnolia",
    "Sequoia", "Tidewater", "Union", "Vista", "Beacon", "Cornerstone", "Fairview", "Greenfield",
    "Hillcrest", "Kingsley", "Lighthouse", "Millbrook", "Newport", "Orchard", "Parkside",
    "Quarry", "Rockport", "Shoreline", "Trinity", "Upland", "Wexford", "Yardley", "Zenith",
]
_SUFFIX_BY_INDUSTRY = {
    "Healthcare": ["Dental", "Family Medicine", "Pediatrics", "Physical Therapy", "Eye Care", "Clinic"],
    "Legal": ["Law Group", "Legal", "& Associates", "Law Offices"],
    "Accounting & Finance": ["CPAs", "Accounting", "Wealth Partners", "Financial", "Tax Advisors"],
    "Construction": ["Builders", "Construction", "Contracting", "Roofing"],
    "Manufacturing": ["Manufacturing", "Fabrication", "Industries", "Tool & Die"],
    "Nonprofit": ["Foundation", "Community Services", "Food Bank", "Youth Center"],
    "Real Estate": ["Realty", "Properties", "Property Management"],
    "Retail": ["Outfitters", "Home & Garden", "Supply", "Boutique"],
    "Professional Services": ["Consulting", "Engineering", "Architects", "Marketing", "Staffing"],
    "Education": ["Academy", "Montessori", "Learning Center"],
    "Logistics": ["Logistics", "Freight", "Distribution"],
    "Hospitality": ["Hotel", "Restaurant Group", "Inn"],
}
CITIES = ["Downtown", "Northside", "Airport", "Eastgate", "Westside", "Harbor District", "Uptown"]


def company_name(rng: random.Random, industry: str, taken: set[str]) -> str:
    for attempt in range(200):
        place = rng.choice(_PLACES)
        if attempt > 20 or rng.random() < 0.3:
            place = f"{place} {rng.choice(_PLACES)}" if attempt < 100 else f"{place} {rng.choice(LAST_NAMES)}"
        name = f"{place} {rng.choice(_SUFFIX_BY_INDUSTRY[industry])}"
        if name not in taken:
            taken.add(name)
            return name
    name = f"{rng.choice(_PLACES)} {industry} {len(taken) + 1}"
    taken.add(name)
    return name


def domain_for(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "", name.lower().replace("&", "and"))[:40] or "client"
    domain, n = f"{base}.com", 2
    while domain in taken:
        domain, n = f"{base}{n}.com", n + 1
    taken.add(domain)
    return domain


def asset_prefix(name: str) -> str:
    letters = "".join(word[0] for word in re.findall(r"[A-Za-z]+", name))[:4].upper()
    return letters or "CL"


# Subjects by category: (subcategory, subject).
SUBJECTS = {
    "Passwords": [("Reset", "Outlook keeps asking for password"), ("Reset", "Locked out of Windows"),
                  ("MFA", "New phone, need MFA re-registered"), ("Reset", "Password expired, cannot log in")],
    "Access": [("Permissions", "Cannot open shared drive"), ("Permissions", "Need access to accounting folder"),
               ("Mailbox", "Add me to the shared mailbox"), ("Application", "No access to CRM after role change")],
    "VPN": [("Connectivity", "VPN disconnects every few minutes"), ("Connectivity", "Cannot connect to VPN from home"),
            ("Client", "VPN client error after update")],
    "Printers": [("Queue", "Printer queue stuck"), ("Scanning", "Scan to email stopped working"),
                 ("Driver", "Cannot print from new laptop")],
    "Application": [("Crash", "Excel crashes when opening file"), ("Update", "Teams not loading after update"),
                    ("Error", "Line-of-business app error on start"), ("Crash", "Outlook freezes on search")],
    "Engineering": [("Server", "File server running out of space"), ("Network", "Internet down at office"),
                    ("Backup", "Backup job failed overnight"), ("Server", "Server not responding"),
                    ("Network", "Wi-Fi slow in conference room"), ("Security", "Suspicious email reported")],
    "User Onboarding": [("New user", "New starter: set up account and laptop"),
                        ("Leaver", "Leaver: disable account and archive mailbox")],
    "Hardware": [("New device", "Set up new workstation"), ("Replacement", "Replace failing laptop"),
                 ("Peripheral", "Install docking station and monitors")],
    "Maintenance": [("Patching", "Monthly patching window"), ("Review", "Quarterly health check"),
                    ("Patching", "Firmware updates for firewall")],
    "Change Request": [("Configuration", "Add distribution list"), ("Software", "Install software for team"),
                       ("Configuration", "Change firewall rule for vendor"), ("Software", "Deploy new app version")],
    "Security Review": [("Audit", "Review admin accounts"), ("Audit", "Security awareness campaign results")],
    "Project": [("Milestone", "Project work")],
}
DESCRIPTION = {
    "INCIDENT": ["Hi, {subject_l} since this morning. Can someone take a look? Thanks, {name}",
                 "{subject}. It is stopping me from working, please call me. {name}",
                 "Hello support, {subject_l}. Restarted already, no change. Regards, {name}"],
    "SERVICE_REQUEST": ["Please arrange: {subject_l}. Thanks, {name}",
                        "Request from {name}: {subject_l}.",
                        "Scheduled work: {subject_l}."],
}
WORKLOG_NOTES = {
    "Passwords": ["Reset password, verified sign-in", "Re-registered MFA, tested login"],
    "Access": ["Granted permissions, user confirmed", "Added to group, waited for sync"],
    "VPN": ["Reinstalled VPN client, tested tunnel", "Updated VPN profile"],
    "Printers": ["Cleared queue, restarted spooler", "Reinstalled driver, test page OK"],
    "Application": ["Repaired Office install", "Cleared cache, rebuilt profile"],
    "Engineering": ["Investigated logs, applied fix", "Freed disk space, extended volume",
                    "Reran backup, verified restore point", "Rebooted appliance, monitored"],
    "Maintenance": ["Applied patches, rebooted servers", "Checked health, updated firmware"],
    "User Onboarding": ["Created account, licensed, set up laptop", "Disabled account, converted mailbox"],
    "Hardware": ["Imaged and enrolled device, migrated profile", "Installed and tested peripherals"],
    "Change Request": ["Made change, confirmed with requester", "Deployed package to group"],
    "Security Review": ["Reviewed accounts, removed stale admins", "Compiled report for client"],
    "Project": ["Project work per plan", "Migration tasks, verified with client", "Configured and documented"],
}
GENERIC_NOTES = ["Worked with user to resolve", "Configured and tested", "Followed up with user",
                 "Documented in IT Glue"]
CSAT_COMMENTS = {
    5: ["Quick fix, thanks", "Great service as always", "Very helpful and friendly", ""],
    4: ["Sorted, thanks", "Good, took a little while", ""],
    3: ["Fixed but took too long", "OK", "Had to chase for an update"],
    2: ["Slow response", "Issue came back the next day", "Nobody called me back"],
    1: ["Still not working", "Very slow, lost half a day", "Third time this month"],
}
INTERACTION_SUMMARIES = {
    "qbr": {1: "QBR: reviewed roadmap and budget, client happy with service",
            0: "QBR: reviewed ticket trends and open projects",
            -1: "QBR: client raised concerns about response times"},
    "call": {1: "Check-in call, positive feedback", 0: "Call about upcoming renewal and licence counts",
             -1: "Escalation call about recurring issues"},
    "email": {1: "Thank-you email from office manager", 0: "Sent monthly service report",
              -1: "Complaint email about open tickets"},
    "onsite": {1: "Site visit: walkthrough with owner", 0: "Site visit: network closet tidy-up",
               -1: "Site visit after outage complaint"},
}


def ascii_local(text: str) -> str:
    """An e-mail local part: mail systems want ASCII (Müller -> muller)."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


# Out-of-scope requests (the agreement covers support, not new installs, moves or builds):
# (subcategory, subject) by category, used when a request is outside the agreement.
OUT_OF_SCOPE_SUBJECTS = {
    "Hardware": [("New install", "Install new printer fleet at office"),
                 ("New install", "Set up new conference room AV")],
    "Change Request": [("New build", "Build new SharePoint site for department"),
                       ("Move", "Move desks and network drops to second floor")],
    "User Onboarding": [("Bulk onboarding", "Onboard seasonal staff (batch of accounts)")],
}
