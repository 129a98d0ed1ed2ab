"""The independent side of Sluice's Avro interop test (avro/interop.integration.test.ts).

Reads one JSON request per line on stdin, answers one JSON line on stdout, using only
fastavro (never Sluice's code or its expectations). Values cross the pipe in a typed JSON form
both sides derive from the schema, so nothing is lost to JSON:
long -> decimal string; float/double -> hex of the 8-byte big-endian IEEE double; bytes/fixed
-> hex; map -> [[key, value], ...]; union -> {"b": branch index, "v": value}; decimal ->
fixed-point string; timestamp-millis -> epoch-millis string; uuid -> string.

Requests: {"op": "pcf", "schema"} -> {"pcf", "fp"} (fp: CRC-64-AVRO, little-endian hex);
{"op": "write", "schema", "value", "framing": "raw"|"single-object"|"confluent", "id"?} -> {"hex"};
{"op": "read", "writer", "reader"?, "hex", "framing", "id"?} -> {"value"}.
"""

import datetime
import decimal
import io
import json
import struct
import sys
import uuid

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form
from fastavro.validation import validate

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
decimal.getcontext().prec = 100


def full_name(name, namespace):
    if "." in name or not namespace:
        return name
    return namespace + "." + name


class Schema:
    """A schema as JSON plus its named types, for the typed-JSON conversions."""

    def __init__(self, schema):
        self.json = schema
        self.named = {}
        self.parsed = fastavro.parse_schema(schema)
        self._collect(schema, None)

    def _collect(self, node, ns):
        if isinstance(node, list):
            for branch in node:
                self._collect(branch, ns)
        elif isinstance(node, dict):
            t = node.get("type")
            if t in ("record", "error", "enum", "fixed"):
                own = node.get("namespace", ns)
                full = full_name(node["name"], own)
                self.named[full] = (node, full.rpartition(".")[0] or None)
                inner = full.rpartition(".")[0] or None
                for field in node.get("fields", []):
                    self._collect(field["type"], inner)
            elif t == "array":
                self._collect(node["items"], ns)
            elif t == "map":
                self._collect(node["values"], ns)
            elif isinstance(t, (dict, list)):
                self._collect(t, ns)

    def resolve(self, node, ns):
        """(schema node, namespace in force) with named references looked up."""
        if isinstance(node, str) and node not in PRIMITIVES:
            return self.named[full_name(node, ns)]
        if isinstance(node, dict) and isinstance(node.get("type"), str):
            t = node["type"]
            if t not in PRIMITIVES and t not in ("record", "error", "enum", "fixed", "array", "map"):
                return self.named[full_name(t, ns)]
        return node, ns


def own_ns(node, ns):
    """The namespace in force inside a named type's definition."""
    full = full_name(node["name"], node.get("namespace", ns))
    return full.rpartition(".")[0] or None


SCHEMAS = {}


def schema_of(json_schema):
    key = json.dumps(json_schema, sort_keys=True)
    found = SCHEMAS.get(key)
    if found is None:
        found = SCHEMAS[key] = Schema(json_schema)
    return found


def d2hex(x):
    return struct.pack(">d", x).hex()


def hex2d(h):
    return struct.unpack(">d", bytes.fromhex(h))[0]


def logical(node):
    return node.get("logicalType") if isinstance(node, dict) else None


def base_type(node):
    if isinstance(node, str):
        return node
    t = node.get("type")
    return t if isinstance(t, str) else None


def to_py(s, node, ns, v):
    """Typed JSON -> the value fastavro writes."""
    node, ns = s.resolve(node, ns)
    if isinstance(node, list):
        return to_py(s, node[v["b"]], ns, v["v"])
    lt, t = logical(node), base_type(node)
    if isinstance(node, dict) and isinstance(node.get("type"), (dict, list)):
        return to_py(s, node["type"], ns, v)
    if lt == "decimal" and t in ("bytes", "fixed") and "precision" in node:
        return decimal.Decimal(v)
    if lt == "timestamp-millis" and t == "long":
        return EPOCH + datetime.timedelta(milliseconds=int(v))
    if lt == "uuid" and t == "string":
        return uuid.UUID(v)
    if t in ("null", "boolean", "int", "string", "enum"):
        return v
    if t == "long":
        return int(v)
    if t in ("float", "double"):
        return hex2d(v)
    if t in ("bytes", "fixed"):
        return bytes.fromhex(v)
    if t == "array":
        return [to_py(s, node["items"], ns, x) for x in v]
    if t == "map":
        return {k: to_py(s, node["values"], ns, x) for k, x in v}
    if t in ("record", "error"):
        inner = own_ns(node, ns)
        return {f["name"]: to_py(s, f["type"], inner, v[f["name"]]) for f in node["fields"]}
    raise ValueError("cannot convert to %r" % (node,))


def from_py(s, node, ns, v):
    """A value fastavro read -> typed JSON."""
    node, ns = s.resolve(node, ns)
    if isinstance(node, list):
        for i, branch in enumerate(node):
            if branch_fits(s, branch, ns, v):
                return {"b": i, "v": from_py(s, branch, ns, v)}
        raise ValueError("no union branch fits %r" % (v,))
    lt, t = logical(node), base_type(node)
    if isinstance(node, dict) and isinstance(node.get("type"), (dict, list)):
        return from_py(s, node["type"], ns, v)
    if lt == "decimal" and t in ("bytes", "fixed") and "precision" in node:
        return format(v, "f")
    if lt == "timestamp-millis" and t == "long":
        return str((v - EPOCH) // datetime.timedelta(milliseconds=1))
    if lt == "uuid" and t == "string":
        return str(v)
    if t in ("null", "boolean", "int", "string", "enum"):
        return v
    if t == "long":
        return str(v)
    if t in ("float", "double"):
        return d2hex(v)
    if t in ("bytes", "fixed"):
        return v.hex()
    if t == "array":
        return [from_py(s, node["items"], ns, x) for x in v]
    if t == "map":
        return [[k, from_py(s, node["values"], ns, x)] for k, x in v.items()]
    if t in ("record", "error"):
        inner = own_ns(node, ns)
        return {f["name"]: from_py(s, f["type"], inner, v[f["name"]]) for f in node["fields"]}
    raise ValueError("cannot convert from %r" % (node,))


def branch_fits(s, branch, ns, v):
    """Which branch of a union a decoded value came from (the unions here are unambiguous)."""
    node, ns = s.resolve(branch, ns)
    lt, t = logical(node), base_type(node)
    if isinstance(node, dict) and isinstance(node.get("type"), (dict, list)):
        return branch_fits(s, node["type"], ns, v)
    if t == "null":
        return v is None
    if v is None:
        return False
    if lt == "decimal" and "precision" in node:
        return isinstance(v, decimal.Decimal)
    if lt == "timestamp-millis":
        return isinstance(v, datetime.datetime)
    if lt == "uuid":
        return isinstance(v, (str, uuid.UUID))
    if t == "boolean":
        return isinstance(v, bool)
    if t in ("int", "long"):
        return isinstance(v, int) and not isinstance(v, bool)
    if t in ("float", "double"):
        return isinstance(v, float)
    if t in ("string", "enum"):
        return isinstance(v, str)
    if t in ("bytes", "fixed"):
        return isinstance(v, bytes)
    if t == "array":
        return isinstance(v, list)
    if t == "map":
        return isinstance(v, dict)
    if t in ("record", "error"):
        return isinstance(v, dict) and all(f["name"] in v for f in node["fields"])
    return False


def fp_hex(schema):
    return fingerprint(to_parsing_canonical_form(schema.parsed), "CRC-64-AVRO")


def handle(req):
    op = req["op"]
    if op == "pcf":
        s = schema_of(req["schema"])
        return {"pcf": to_parsing_canonical_form(s.parsed), "fp": fp_hex(s)}
    if op == "write":
        s = schema_of(req["schema"])
        out = io.BytesIO()
        framing = req.get("framing", "raw")
        if framing == "single-object":
            out.write(b"\xc3\x01" + bytes.fromhex(fp_hex(s)))
        elif framing == "confluent":
            out.write(b"\x00" + struct.pack(">I", req["id"]))
        fastavro.schemaless_writer(out, s.parsed, to_py(s, s.json, None, req["value"]))
        return {"hex": out.getvalue().hex()}
    if op == "read":
        w = schema_of(req["writer"])
        r = schema_of(req["reader"]) if req.get("reader") is not None else w
        data = bytes.fromhex(req["hex"])
        framing = req.get("framing", "raw")
        if framing == "single-object":
            if data[:2] != b"\xc3\x01":
                raise ValueError("bad single-object magic %s" % data[:2].hex())
            if data[2:10].hex() != fp_hex(w):
                raise ValueError(
                    "fingerprint %s is not the writer schema's %s" % (data[2:10].hex(), fp_hex(w))
                )
            data = data[10:]
        elif framing == "confluent":
            if data[0] != 0 or struct.unpack(">I", data[1:5])[0] != req["id"]:
                raise ValueError("bad Confluent header %s" % data[:5].hex())
            data = data[5:]
        fo = io.BytesIO(data)
        value = fastavro.schemaless_reader(fo, w.parsed, r.parsed if r is not w else None)
        if fo.tell() != len(data):
            raise ValueError("%d trailing bytes" % (len(data) - fo.tell()))
        return {"value": from_py(r, r.json, None, value)}
    raise ValueError("unknown op %r" % op)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            res = {"rid": req.get("rid"), "ok": True, **handle(req)}
        except Exception as e:  # every failure goes back to the test, named
            res = {"rid": req.get("rid"), "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
