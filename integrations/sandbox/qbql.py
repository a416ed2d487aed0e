"""Intuit's query language, as the QuickBooks side of the sandbox answers it.

The subset real clients send (Intuit's "Query operations and syntax" page, and what
python-quickbooks builds):

    SELECT * | SELECT *, Sku | SELECT Id, DisplayName | SELECT COUNT(*)
    FROM <Entity>
    [WHERE <property> <op> <value> [AND ...]]      op: = < > <= >= IN (...) LIKE '%x%'
    [ORDERBY <property> [ASC|DESC] [, ...]]        ("ORDER BY" is read the same)
    [STARTPOSITION n] [MAXRESULTS n]               MAXRESULTS at most 1000

Keywords, entity and property names are case-insensitive; values are single-quoted strings
(`\\'` escapes a quote), numbers or true/false. A reference property (CustomerRef) compares on
its `value`; dates and date-times compare as such, a date-time without an offset being in
the company's zone. OR, GROUP BY, JOIN and functions other than COUNT(*) are not in the
language: they are parser errors, as at Intuit. A property the entity does not have is a
validation error naming it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100  # Intuit's page size when MAXRESULTS is not given

# Properties each entity has in Intuit's reference (minor version 75), beyond what the
# records at hand carry; a WHERE or ORDERBY on anything else is refused.
_COMMON = ("Id", "SyncToken", "MetaData", "domain", "sparse")
_TXN = ("TxnDate", "DocNumber", "PrivateNote", "CurrencyRef", "ExchangeRate", "TotalAmt", "Line",
        "LinkedTxn", "DepartmentRef", "TxnTaxDetail", "GlobalTaxCalculation", "TxnSource")
PROPERTIES: dict[str, tuple[str, ...]] = {
    "Customer": ("DisplayName", "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "CompanyName",
                 "FullyQualifiedName", "PrintOnCheckName", "Active", "PrimaryEmailAddr", "PrimaryPhone",
                 "AlternatePhone", "Mobile", "Fax", "WebAddr", "BillAddr", "ShipAddr", "Notes", "Job",
                 "IsProject", "ParentRef", "Level", "BillWithParent", "Balance", "BalanceWithJobs",
                 "OpenBalanceDate", "CurrencyRef", "SalesTermRef", "PaymentMethodRef", "Taxable",
                 "DefaultTaxCodeRef", "PreferredDeliveryMethod", "ResaleNum", "ARAccountRef",
                 "PrimaryTaxIdentifier", "CustomerTypeRef"),
    "Item": ("Name", "Sku", "Description", "Active", "SubItem", "ParentRef", "Level", "FullyQualifiedName",
             "Type", "UnitPrice", "PurchaseDesc", "PurchaseCost", "Taxable", "SalesTaxIncluded",
             "PurchaseTaxIncluded", "IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef",
             "SalesTaxCodeRef", "PurchaseTaxCodeRef", "TrackQtyOnHand", "QtyOnHand", "InvStartDate",
             "ItemCategoryType", "ServiceType"),
    "Invoice": _TXN + ("CustomerRef", "DueDate", "Balance", "HomeBalance", "HomeTotalAmt", "SalesTermRef",
                       "BillEmail", "BillAddr", "ShipAddr", "ShipDate", "EmailStatus", "PrintStatus",
                       "CustomerMemo", "CustomField", "Deposit", "AllowOnlineCreditCardPayment",
                       "AllowOnlineACHPayment", "ApplyTaxAfterDiscount", "InvoiceLink", "ClassRef"),
    "CreditMemo": _TXN + ("CustomerRef", "Balance", "RemainingCredit", "SalesTermRef", "BillEmail", "BillAddr",
                          "ShipAddr", "EmailStatus", "PrintStatus", "CustomerMemo", "CustomField",
                          "ApplyTaxAfterDiscount", "ClassRef"),
    "Payment": _TXN + ("CustomerRef", "UnappliedAmt", "PaymentRefNum", "PaymentMethodRef",
                       "DepositToAccountRef", "ARAccountRef", "CreditCardPayment", "TxnStatus"),
    "Bill": _TXN + ("VendorRef", "DueDate", "Balance", "APAccountRef", "SalesTermRef", "VendorAddr"),
    "Purchase": _TXN + ("AccountRef", "PaymentType", "EntityRef", "Credit", "PaymentMethodRef", "PrintStatus",
                        "RemitToAddr"),
    "Employee": ("DisplayName", "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "PrintOnCheckName",
                 "Active", "PrimaryEmailAddr", "PrimaryPhone", "Mobile", "PrimaryAddr", "EmployeeNumber", "SSN",
                 "Gender", "BirthDate", "HiredDate", "ReleasedDate", "BillableTime", "BillRate", "CostRate",
                 "Organization"),
    "TimeActivity": ("TxnDate", "NameOf", "EmployeeRef", "VendorRef", "CustomerRef", "ItemRef", "ClassRef",
                     "DepartmentRef", "BillableStatus", "Taxable", "HourlyRate", "CostRate", "Hours", "Minutes",
                     "BreakHours", "BreakMinutes", "StartTime", "EndTime", "Description"),
}
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "IN", "LIKE", "ORDERBY", "ORDER", "BY", "ASC", "DESC",
             "STARTPOSITION", "MAXRESULTS", "COUNT", "TRUE", "FALSE"}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)
  | (?P<op><=|>=|=|<|>)
  | (?P<punct>[(),*])
""", re.VERBOSE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class QueryError(Exception):
    """A fault Intuit would answer with: code 4000 for a parser error, 4001 for validation."""

    def __init__(self, code: str, message: str, detail: str):
        super().__init__(detail)
        self.code, self.message, self.detail = code, message, detail


def parser_error(detail: str) -> QueryError:
    return QueryError("4000", "Error parsing query", f"QueryParserError: {detail}")


def validation_error(detail: str) -> QueryError:
    return QueryError("4001", "Invalid query", f"QueryValidationError: {detail}")


@dataclass
class Condition:
    path: tuple[str, ...]
    op: str  # = < > <= >= IN LIKE
    values: list  # one value, or the IN list


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[tuple[str, ...]] | None = None  # None: whole records
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)  # (path, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS

    def mentions(self, prop: str) -> bool:
        return any(c.path[0] == prop for c in self.where)


@dataclass
class _Token:
    kind: str
    text: str
    column: int  # 1-based, as Intuit reports it

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


def tokenize(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise parser_error(f'Lexical error at line 1, column {pos + 1}.  Encountered: "{text[pos]}"')
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group(), pos + 1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, entities: Iterable[str], properties: Callable[[str], Iterable[str]]):
        self.tokens = tokenize(text)
        self.at = 0
        self.entities = list(entities)
        self.properties = properties
        self._known: dict[str, set[str]] = {}

    # --- token helpers
    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise parser_error("Encountered \"<EOF>\" at end of statement.")
        self.at += 1
        return token

    def unexpected(self, token: _Token | None) -> QueryError:
        if token is None:
            return parser_error('Encountered "<EOF>" at end of statement.')
        return parser_error(f'Encountered " {token.text} " at line 1, column {token.column}.')

    def expect_word(self, word: str) -> None:
        token = self.take()
        if token.word != word:
            raise self.unexpected(token)

    def expect_punct(self, char: str) -> None:
        token = self.take()
        if token.text != char:
            raise self.unexpected(token)

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.word in words

    # --- grammar
    def statement(self) -> Query:
        self.expect_word("SELECT")
        count, names, star = self.select_list()
        self.expect_word("FROM")
        token = self.take()
        if token.kind != "name" or "." in token.text or token.word in _KEYWORDS:
            raise self.unexpected(token)
        entity = next((e for e in self.entities if e.lower() == token.text.lower()), None)
        if entity is None:
            raise validation_error(f"Entity {token.text} is not supported")
        query = Query(entity, count=count)
        if names and not star:
            query.fields = [self.resolve(entity, name) for name in names]
        else:
            for name in names:  # SELECT *, Sku: whole records, but the names must exist
                self.resolve(entity, name)
        if self.at_word("WHERE"):
            self.take()
            query.where.append(self.condition(entity))
            while self.at_word("AND"):
                self.take()
                query.where.append(self.condition(entity))
            if self.at_word("OR"):
                raise self.unexpected(self.peek())
        if self.at_word("ORDERBY", "ORDER"):
            if self.take().word == "ORDER":
                self.expect_word("BY")
            query.order.append(self.order_item(entity))
            while self.peek() is not None and self.peek().text == ",":
                self.take()
                query.order.append(self.order_item(entity))
        seen: set[str] = set()
        while self.at_word("STARTPOSITION", "MAXRESULTS") and self.peek().word not in seen:
            word = self.take().word
            seen.add(word)
            number = self.take()
            if number.kind != "number" or not number.text.lstrip("-").isdigit():
                raise self.unexpected(number)
            if word == "STARTPOSITION":
                query.start = int(number.text)
            else:
                query.max_results = int(number.text)
        if self.peek() is not None:
            raise self.unexpected(self.peek())
        return query

    def select_list(self) -> tuple[bool, list[str], bool]:
        token = self.take()
        if token.word == "COUNT":
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            return True, [], False
        names, star = [], token.text == "*"
        if not star:
            if token.kind != "name" or token.word in _KEYWORDS:
                raise self.unexpected(token)
            names.append(token.text)
        while self.peek() is not None and self.peek().text == ",":
            self.take()
            token = self.take()
            if token.kind != "name" or token.word in _KEYWORDS:
                raise self.unexpected(token)
            names.append(token.text)
        return False, names, star

    def resolve(self, entity: str, name: str) -> tuple[str, ...]:
        """The property path with its first part in the entity's own spelling."""
        head, *rest = name.split(".")
        if entity not in self._known:
            self._known[entity] = set(PROPERTIES.get(entity, ())) | set(_COMMON) | set(self.properties(entity))
        known = self._known[entity]
        canonical = next((k for k in known if k.lower() == head.lower()), None)
        if canonical is None:
            raise validation_error(f"Property {name} not found for Entity {entity}")
        return (canonical, *rest)

    def condition(self, entity: str) -> Condition:
        token = self.take()
        if token.kind != "name" or token.word in _KEYWORDS:
            raise self.unexpected(token)
        path = self.resolve(entity, token.text)
        operator = self.take()
        if operator.kind == "op":
            return Condition(path, operator.text, [self.literal()])
        if operator.word == "IN":
            self.expect_punct("(")
            values = [self.literal()]
            while self.peek() is not None and self.peek().text == ",":
                self.take()
                values.append(self.literal())
            self.expect_punct(")")
            return Condition(path, "IN", values)
        if operator.word == "LIKE":
            value = self.literal()
            if not isinstance(value, str):
                raise validation_error(f"LIKE needs a quoted pattern for {token.text}")
            return Condition(path, "LIKE", [value])
        raise self.unexpected(operator)

    def literal(self) -> str | bool | Decimal:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return Decimal(token.text)
        if token.word in ("TRUE", "FALSE"):
            return token.word == "TRUE"
        raise self.unexpected(token)

    def order_item(self, entity: str) -> tuple[tuple[str, ...], bool]:
        token = self.take()
        if token.kind != "name" or token.word in _KEYWORDS:
            raise self.unexpected(token)
        path = self.resolve(entity, token.text)
        descending = False
        if self.at_word("ASC", "DESC"):
            descending = self.take().word == "DESC"
        return path, descending


def parse(text: str, entities: Iterable[str], properties: Callable[[str], Iterable[str]] = lambda _: ()) -> Query:
    """The statement, checked against the entities served; `properties(entity)` names what
    the records at hand carry, counted as properties alongside Intuit's reference."""
    if not (text or "").strip():
        raise parser_error('Encountered "<EOF>" at line 1, column 1.')
    query = _Parser(text, entities, properties).statement()
    if query.max_results > MAX_RESULTS or query.max_results < 1:
        raise validation_error(f"MAXRESULTS must be between 1 and {MAX_RESULTS}; got {query.max_results}")
    if query.start < 1:
        raise validation_error(f"STARTPOSITION must be 1 or more; got {query.start}")
    return query


# --- evaluation
def value_at(record: dict, path: tuple[str, ...]):
    """The value a condition sees: dotted paths walk objects (any case after the first part),
    and a reference ({"value", "name"}) stands for its value."""
    value = record.get(path[0])
    for part in path[1:]:
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return value


def parse_datetime(raw: str, zone: tzinfo) -> datetime:
    """A date-time as Intuit reads it: an offset or Z if given, else the company's zone; a
    bare date is midnight there."""
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _typed(value, like, zone: tzinfo):
    """`value` (from a record or a literal) in the type `like` (the record's value) has, so
    the two compare as Intuit compares them; None when it cannot be read so."""
    try:
        if isinstance(like, bool):
            if isinstance(value, bool):
                return value
            return {"true": True, "false": False}.get(str(value).lower())
        if isinstance(like, (int, float, Decimal)):
            return Decimal(str(value))
        if isinstance(like, str) and _DATETIME.match(like):
            return parse_datetime(str(value), zone)
        if isinstance(like, str) and _DATE.match(like):
            return date.fromisoformat(str(value)[:10])
        if isinstance(like, str) and like.isdigit() and str(value).isdigit():
            return int(value)  # Ids and other numeric strings order as numbers
        return str(value).casefold()
    except (ValueError, InvalidOperation):
        return None


def _matches(record: dict, condition: Condition, zone: tzinfo) -> bool:
    actual = value_at(record, condition.path)
    if actual is None or isinstance(actual, (dict, list)):
        return False
    mine = _typed(actual, actual, zone)
    if condition.op == "LIKE":
        return _like(condition.values[0]).fullmatch(str(actual)) is not None
    wanted = [_typed(v, actual, zone) for v in condition.values]
    if condition.op == "IN":
        return mine is not None and mine in wanted
    other = wanted[0]
    if other is None or mine is None:
        return False
    try:
        return {"=": mine == other, "<": mine < other, ">": mine > other,
                "<=": mine <= other, ">=": mine >= other}[condition.op]
    except TypeError:
        return False


@lru_cache(maxsize=256)
def _like(pattern: str) -> re.Pattern:
    """LIKE's only wildcard is %, any run of characters; case is ignored."""
    regex = "".join(".*" if part == "%" else re.escape(part) for part in re.split(r"(%)", pattern))
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def _sort_key(value, zone: tzinfo) -> tuple:
    """Missing values first (ascending), then by type: one field holds one type."""
    if value is None or isinstance(value, (dict, list)):
        return (0, 0)
    typed = _typed(value, value, zone)
    if isinstance(typed, datetime):
        return (1, typed.timestamp())
    if isinstance(typed, (bool, int, Decimal)):
        return (1, typed)
    if isinstance(typed, date):
        return (1, typed.toordinal())
    return (2, typed)


def select(query: Query, records: list[dict], zone: tzinfo) -> list[dict]:
    """The records the WHERE keeps, in ORDERBY order (stable: ties keep the store's order)."""
    kept = [r for r in records if all(_matches(r, c, zone) for c in query.where)]
    for path, descending in reversed(query.order):
        kept.sort(key=lambda r: _sort_key(value_at(r, path), zone), reverse=descending)
    return kept


def project(query: Query, record: dict) -> dict:
    """A record as the SELECT list asks: whole, or only the named properties (and Id), marked
    sparse as Intuit marks a partial object."""
    if query.fields is None:
        return record
    out = {"domain": record.get("domain", "QBO"), "sparse": True, "Id": record.get("Id")}
    for path in query.fields:
        if path[0] in record:
            out[path[0]] = record[path[0]]
    return out
