"""Every error reply of RedisAI 1.2.7 a client can provoke, byte for byte, on both engines.

One row per error string of ../../../../shared/reference/redisai-errors.md that can arise in
our design (the others are listed, with the reason, in docs/engine.md), plus rows that pin
RedisAI's order of checks where two errors compete.  A row is (how it is sent, command,
the error line exactly as the server sends it, without the leading "-").  Replies are read
from the socket, so the "ERR " prefix (or its absence) is checked too.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
import redis

from smartsim_ai.testing.pytest_plugin import ENGINES
from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch

TRANSACTION = "ERR Cannot run RedisAI command within a transaction or a LUA script"


def _five_inputs_bytes() -> bytes:
    import io

    import torch

    class Five(torch.nn.Module):
        def forward(self, a, b, c, d, e):
            return a + b + c + d + e

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Five()), buf)
    return buf.getvalue()


class Raw:
    """A RESP2 connection that hands back error lines as the server wrote them."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=60)
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def send(self, *args: object) -> None:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            data = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))

    def reply(self) -> object:
        """One reply: an error as ("error", line), anything else parsed loosely."""
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            return ("error", rest.decode())
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise AssertionError(f"unexpected reply line {line!r}")


def error_line(raw: Raw, mode: str, args: tuple) -> str | None:
    """The error line `args` gets when sent plainly, inside MULTI/EXEC, or from Lua."""
    if mode == "plain":
        raw.send(*args)
        reply = raw.reply()
    elif mode == "multi":
        raw.send("MULTI")
        raw.send(*args)
        raw.send("EXEC")
        assert raw.reply() == "OK"
        queued = raw.reply()
        reply = raw.reply()
        if queued != "QUEUED":
            return queued[1] if isinstance(queued, tuple) else None
        reply = reply[0] if isinstance(reply, list) else reply
    else:  # lua: redis.pcall hands the error table back as the script's reply
        raw.send("EVAL", "return redis.pcall(unpack(ARGV))", 0, *args)
        reply = raw.reply()
    return reply[1] if isinstance(reply, tuple) else None


TORCH, TORCH2, TORCH5 = "<torch>", "<torch2>", "<torch5>"

# (mode, command, error line)
ROWS: list[tuple[str, tuple, str]] = [
    # --- the run commands refuse MULTI and Lua before anything else (arity, keys)
    ("multi", ("AI.MODELEXECUTE", "nothere"), TRANSACTION),
    ("multi", ("AI.MODELRUN", "nothere"), TRANSACTION),
    ("multi", ("AI.SCRIPTEXECUTE", "nothere"), TRANSACTION),
    ("multi", ("AI.SCRIPTRUN", "nothere"), TRANSACTION),
    ("multi", ("AI.DAGEXECUTE",), TRANSACTION),
    ("multi", ("AI.DAGEXECUTE_RO",), TRANSACTION),
    ("multi", ("AI.DAGRUN",), TRANSACTION),
    ("multi", ("AI.DAGRUN_RO",), TRANSACTION),
    ("lua", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b"), TRANSACTION),
    ("lua", ("AI.SCRIPTRUN", "nothere"), TRANSACTION),
    ("lua", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORGET", "a"), TRANSACTION),
    # --- arity (own texts, upper-case names)
    ("plain", ("AI.TENSORSET", "t", "FLOAT"), "ERR wrong number of arguments for 'AI.TENSORSET' command"),
    ("plain", ("AI.TENSORGET",), "ERR wrong number of arguments for 'AI.TENSORGET' command"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a"), "ERR wrong number of arguments for 'AI.MODELEXECUTE' command"),
    ("plain", ("AI.MODELRUN", "m", "INPUTS", "a"), "ERR wrong number of arguments for 'AI.MODELRUN' command"),
    ("plain", ("AI.SCRIPTEXECUTE", "s"), "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command"),
    ("plain", ("AI.SCRIPTRUN", "s"), "ERR wrong number of arguments for 'AI.SCRIPTRUN' command"),
    ("plain", ("AI.DAGRUN", "LOAD", 1), "ERR wrong number of arguments for 'AI.DAGRUN' command"),
    ("plain", ("AI.DAGRUN_RO", "LOAD", 1), "ERR wrong number of arguments for 'AI.DAGRUN_RO' command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a"), "ERR missing arguments for 'AI.DAGEXECUTE' command"),
    ("plain", ("AI.DAGEXECUTE_RO", "LOAD", 1, "a"), "ERR missing arguments for 'AI.DAGEXECUTE_RO' command"),
    # --- keys
    ("plain", ("AI.TENSORGET", "nothere"), "ERR tensor key is empty or in a different shard"),
    ("plain", ("AI.TENSORGET", "str"), "WRONGTYPE Operation against a key holding the wrong kind of value"),
    ("plain", ("AI.MODELGET", "nothere"), "ERR model key is empty"),
    ("plain", ("AI.SCRIPTGET", "nothere"), "ERR script key is empty"),
    ("plain", ("AI.INFO", "nothere"), "ERR cannot find run info for key"),
    # --- AI.TENSORSET / AI.TENSORGET
    ("plain", ("AI.TENSORSET", "t", "BOGUS", 1), "ERR invalid data type"),
    ("plain", ("AI.TENSORSET", "t", "FLOAT", -1), "ERR invalid or negative value found in tensor shape"),
    ("plain", ("AI.TENSORSET", "t", "FLOAT", 1, "BLOB", "a", "b"), "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"),
    ("plain", ("AI.TENSORSET", "t", "FLOAT", 2, "BLOB", "abc"), "ERR data length does not match tensor shape and type"),
    ("plain", ("AI.TENSORSET", "t", "BOOL", 2, "BLOB", b"\x02\x00"), "ERR BOOL tensor elements must be 0 or 1"),
    ("plain", ("AI.TENSORSET", "t", "STRING", 2, "BLOB", b"a\x00"), "ERR Number of string elements in data blob does not match tensor length"),
    ("plain", ("AI.TENSORSET", "t", "FLOAT", 2, "VALUES", 1), "ERR wrong number of values was given in 'AI.TENSORSET' command"),
    ("plain", ("AI.TENSORSET", "t", "INT8", 1, "VALUES", -1), "ERR invalid value"),
    ("plain", ("AI.TENSORSET", "t", "STRING", 1, "VALUES", b"a\x00b"), "ERR C-string value contains null character"),
    ("plain", ("AI.TENSORGET", "a", "BOGUS"), "ERR unsupported data format"),
    ("plain", ("AI.TENSORGET", "a", "BLOB", "VALUES"), "ERR both BLOB and VALUES specified"),
    # --- AI.MODELSTORE
    ("plain", ("AI.MODELSTORE", "x", "BOGUS", "CPU", "BLOB", "b"), "ERR unsupported backend"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "BAD", "BLOB", "b"), "ERR Invalid DEVICE"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "BATCHSIZE", "n", "BLOB", "b"), "ERR Invalid argument for BATCHSIZE"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "BATCHSIZE", 2, "MINBATCHSIZE", "n", "BLOB", "b"), "ERR Invalid argument for MINBATCHSIZE"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "MINBATCHSIZE", 2, "BLOB", "b"), "ERR MINBATCHSIZE specified without BATCHSIZE"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "BATCHSIZE", 2, "MINBATCHSIZE", 1, "MINBATCHTIMEOUT", "n", "BLOB", "b"), "ERR Invalid argument for MINBATCHTIMEOUT"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "BATCHSIZE", 2, "MINBATCHTIMEOUT", 5, "BLOB", "b"), "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "TAG", "t"), "ERR Insufficient arguments, missing model BLOB"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "BLOB", "b"), "ERR INPUTS not specified for TF"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "INPUTS", "n", "i", "BLOB", "b"), "ERR Invalid argument for input_count"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "INPUTS", 5, "i", "j"), "ERR number of model inputs does not match the number of given arguments"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "INPUTS", 1, "i", "BLOB", "b"), "ERR OUTPUTS not specified for TF"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "INPUTS", 1, "i", "OUTPUTS", 0, "o", "BLOB"), "ERR Invalid argument for output_count"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "INPUTS", 1, "i", "OUTPUTS", 5, "o"), "ERR number of model outputs does not match the number of given arguments"),
    ("plain", ("AI.MODELSTORE", "x", "TF", "CPU", "INPUTS", 1, "i", "OUTPUTS", 1, "o"), "ERR Invalid argument, expected BLOB"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "INPUTS", 1, "i", "BLOB", TORCH), "ERR INPUTS argument should not be specified for this backend"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "NOTBLOB", "b"), "ERR Invalid argument, expected BLOB"),
    ("plain", ("AI.MODELSTORE", "x", "TORCH", "CPU", "TAG", "t", "BLOB"), "ERR Insufficient arguments, missing model BLOB"),
    # --- AI.MODELSET (deprecated)
    ("plain", ("AI.MODELSET", "x", "TORCH", "BLOB", "BLOB", "b"), "ERR Invalid DEVICE"),
    ("plain", ("AI.MODELSET", "x", "TFLITE", "CPU", "BATCHSIZE", 2, "BLOB", "b"), "ERR Auto-batching not supported by the TFLITE backend"),
    ("plain", ("AI.MODELSET", "x", "TORCH", "CPU", "BATCHSIZE", 0, "MINBATCHSIZE", 2, "BLOB", "b"), "ERR MINBATCHSIZE specified without BATCHSIZE"),
    ("plain", ("AI.MODELSET", "x", "TORCH", "CPU", "MINBATCHTIMEOUT", 5, "BLOB", "b"), "ERR MINBATCHTIMEOUT specified without BATCHSIZE"),
    ("plain", ("AI.MODELSET", "x", "TORCH", "CPU", "BATCHSIZE", 2, "MINBATCHTIMEOUT", 5, "BLOB", "b"), "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"),
    ("plain", ("AI.MODELSET", "x", "TF", "CPU", "BLOB", "b"), "ERR Insufficient arguments, INPUTS and OUTPUTS not specified"),
    ("plain", ("AI.MODELSET", "x", "TF", "CPU", "i", "BLOB", "b"), "ERR INPUTS not specified"),
    ("plain", ("AI.MODELSET", "x", "TF", "CPU", "INPUTS", "i", "BLOB", "b"), "ERR OUTPUTS not specified"),
    ("plain", ("AI.MODELSET", "x", "TORCH", "CPU", "TAG", "t"), "ERR Insufficient arguments, missing model BLOB"),
    # --- AI.MODELEXECUTE / AI.MODELRUN, in RedisAI's order of checks
    ("plain", ("AI.MODELEXECUTE", "m", "NOTINPUTS", 1, "a", "OUTPUTS", 1, "b"), "ERR INPUTS not specified"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", "n", "a", "OUTPUTS", 1, "b"), "ERR Invalid argument for input_count"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 0, "a", "OUTPUTS", 1, "b"), "ERR Input count must be a positive integer"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 2, "a", "a", "OUTPUTS", 1, "b"), "Number of keys given as INPUTS here does not match model definition"),
    ("plain", ("AI.MODELEXECUTE", "m5", "INPUTS", 5, "a", "a", "a", "a"), "ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "NOTOUTPUTS", 1, "b"), "ERR OUTPUTS not specified"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", "n", "b"), "ERR Invalid argument for output_count"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 0, "b"), "ERR Output count must be a positive integer"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 2, "b", "c"), "Number of keys given as OUTPUTS here does not match model definition"),
    ("plain", ("AI.MODELEXECUTE", "m2", "INPUTS", 2, "a", "a", "OUTPUTS", 2, "b"), "ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "x"), "Invalid argument: x"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "TIMEOUT"), "ERR No value provided for TIMEOUT"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "TIMEOUT", 0), "ERR Invalid value for TIMEOUT"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "TIMEOUT", 5, "x"), "Invalid argument: x"),
    ("plain", ("AI.MODELEXECUTE", "m", "INPUTS", 1, "nothere", "OUTPUTS", 1, "b"), "ERR tensor key is empty or in a different shard"),
    ("plain", ("AI.MODELRUN", "m", "NOTINPUTS", "a", "OUTPUTS", "b"), "ERR INPUTS not specified"),
    ("plain", ("AI.MODELRUN", "m", "INPUTS", "a", "a", "OUTPUTS", "b"), "Number of keys given as INPUTS here does not match model definition"),
    ("plain", ("AI.MODELRUN", "m", "TIMEOUT", 5, "INPUTS", "a"), "Number of keys given as OUTPUTS here does not match model definition"),
    ("plain", ("AI.MODELRUN", "m", "TIMEOUT", "x", "INPUTS", "a", "OUTPUTS", "b"), "ERR Invalid value for TIMEOUT"),
    # --- AI.SCRIPTSTORE / AI.SCRIPTSET
    ("plain", ("AI.SCRIPTSTORE", "x", "CPU", "TAG", "t", "SOURCE", "x", "y"), "ERR Insufficient arguments, missing script entry points"),
    ("plain", ("AI.SCRIPTSTORE", "x", "CPU", "ENTRY_POINTS", "n", "f", "SOURCE", "src"), "ERR Non numeric entry points number provided to AI.SCRIPTSTORE command"),
    ("plain", ("AI.SCRIPTSTORE", "x", "CPU", "ENTRY_POINTS", 1, "f", "NOTSOURCE", "src"), "ERR Insufficient arguments, missing script SOURCE"),
    ("plain", ("AI.SCRIPTSET", "x", "CPU", "TAG", "t"), "ERR Insufficient arguments, missing script SOURCE"),
    ("plain", ("AI.SCRIPTSET", "x", "BOGUS", "SOURCE", "src"), "ERR unsupported device"),
    # --- AI.SCRIPTEXECUTE: scopes and counts
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "OUTPUTS", 1, "b"), "ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "KEYS", 1), "ERR Missing arguments after KEYS keyword"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "KEYS", 0, "k"), "ERR Invalid or negative value found in number of KEYS"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "KEYS", 3, "k", "k"), "ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "KEYS", 1, "k", "KEYS", 1, "k"), "ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "INPUTS", 1, "a"), "ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "ARGS", 0, "ARGS", 0), "ERR Already Encountered ARGS scope in AI.SCRIPTEXECUTE command"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "OUTPUTS", 1, "b"), "ERR Already Encountered OUTPUTS scope in AI.SCRIPTEXECUTE command"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "OUTPUTS"), "ERR Invalid arguments provided to AI.SCRIPTEXECUTE"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", "n"), "ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "ARGS", "n"), "ERR Invalid argument for keys count in AI.SCRIPTEXECUTE"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "OUTPUTS", "n"), "ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 3, "a"), "ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", -9, "a"), "ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "ARGS", 3, "x"), "ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "OUTPUTS", 2, "b"), "ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "BOGUS"), "ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: BOGUS"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT"), "ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT", "x"), "ERR Invalid value for TIMEOUT"),
    ("plain", ("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT", 5, "x"), "ERR Encountered problem parsing AI.SCRIPTEXECUTE"),
    # --- AI.SCRIPTRUN (deprecated)
    ("plain", ("AI.SCRIPTRUN", "s", "f", "a", "INPUTS", "a"), "ERR Unrecongnized parameter to SCRIPTRUN"),
    ("plain", ("AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "INPUTS", "a"), "ERR Already encountered an INPUTS keyword in SCRIPTRUN"),
    ("plain", ("AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "OUTPUTS", "b", "INPUTS", "a"), "ERR Already encountered an INPUTS section in SCRIPTRUN"),
    ("plain", ("AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "OUTPUTS", "b", "OUTPUTS"), "ERR Already encountered an OUTPUTS keyword in SCRIPTRUN"),
    ("plain", ("AI.SCRIPTRUN", "s", "f", "TIMEOUT", 5, "TIMEOUT", 5, "INPUTS", "a"), "ERR Already encountered an TIMEOUT section in SCRIPTRUN"),
    ("plain", ("AI.SCRIPTRUN", "s", "f", "OUTPUTS", "$"), "ERR Encountered a variable size list of tensors outside of input section"),
    ("plain", ("AI.SCRIPTRUN", "s", "f", "INPUTS", "$", "a", "$", "a"), "ERR Already encountered a variable size list of tensors"),
    # --- DAG headers, in RedisAI's order
    ("plain", ("AI.DAGEXECUTE", "TIMEOUT", 5, "|>", "AI.TENSORGET", "a"), "ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "PERSIST", 1, "b"), "ERR DAG is empty"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "BOGUS", "|>", "AI.TENSORGET", "a"), "ERR Invalid DAG command. Unexpected argument:  BOGUS"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORGET", "a", "|>"), "ERR Invalid DAG command. Unexpected argument:  |>"),
    ("plain", ("AI.DAGEXECUTE", "ROUTING", "|>", "AI.TENSORGET", "a", "x"), "ERR Invalid DAG command. Unexpected argument:  AI.TENSORGET"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "TIMEOUT", 5, "ROUTING"), "ERR Missing ROUTING value"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "TIMEOUT", "x", "|>", "AI.TENSORGET", "a"), "ERR Invalid value for TIMEOUT"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORGET", "a", "TIMEOUT"), "ERR unsupported data format"),
    ("plain", ("AI.DAGEXECUTE", "PERSIST", 2, "x", "y", "LOAD", 1), "ERR missing arguments after LOAD keyword in DAG command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 0, "a", "|>", "AI.TENSORGET", "a"), "ERR invalid or negative value found in number of keys to LOAD"),
    ("plain", ("AI.DAGEXECUTE", "TIMEOUT", 5, "LOAD", 3, "a", "a"), "ERR number of keys to LOAD into DAG does not match the number of given arguments"),
    ("plain", ("AI.DAGEXECUTE", "TIMEOUT", 5, "LOAD", 3, "a", "nothere"), "ERR tensor key is empty or in a different shard"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "|>", "AI.TENSORGET", "a"), "ERR tensor key is empty or in a different shard"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "TIMEOUT", 5, "PERSIST", 1), "ERR missing arguments after PERSIST keyword in DAG command"),
    ("plain", ("AI.DAGEXECUTE", "PERSIST", 0, "a", "|>", "AI.TENSORGET", "a"), "ERR invalid or negative value found in number of keys to PERSIST"),
    ("plain", ("AI.DAGEXECUTE", "PERSIST", 2, "b", "b", "|>", "AI.TENSORGET", "a"), "ERR PERSIST keys must be unique"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "PERSIST", 3, "x", "y"), "ERR number of keys to PERSIST after DAG execution does not match the number of given arguments"),
    ("plain", ("AI.DAGEXECUTE_RO", "PERSIST", 1, "b", "|>", "AI.TENSORGET", "a"), "ERR PERSIST cannot be specified in a read-only DAG"),
    # --- DAG ops: every op parses before any name is bound
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.INFO", "m"), "Unsupported command within DAG"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "|>", "AI.TENSORGET", "a"), "Unsupported command within DAG"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORGET", "nothere", "|>", "AI.INFO", "m"), "Unsupported command within DAG"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORGET", "nothere"), "ERR INPUT key cannot be found in DAG"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "PERSIST", 1, "zz", "|>", "AI.TENSORGET", "a"), "ERR PERSIST key cannot be found in DAG"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORGET"), "wrong number of arguments for 'AI.TENSORGET' command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.TENSORSET", "t", "FLOAT"), "wrong number of arguments for 'AI.TENSORSET' command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.MODELRUN", "m", "INPUTS", "a", "OUTPUTS", "b"), "Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "OUTPUTS", "b"), "Deprecated AI.SCRIPTRUN cannot be used in AI.DAGEXECUTE command"),
    ("plain", ("AI.DAGRUN", "LOAD", 1, "a", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b"), "AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command"),
    ("plain", ("AI.DAGRUN", "LOAD", 1, "a", "|>", "AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a"), "AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command"),
    ("plain", ("AI.DAGEXECUTE_RO", "LOAD", 1, "a", "|>", "AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a"), "ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "TIMEOUT", 5), "ERR TIMEOUT not allowed within a DAG command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "TIMEOUT", "x"), "ERR Invalid value for TIMEOUT"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT", 5), "ERR TIMEOUT not allowed within a DAG command"),
    ("plain", ("AI.DAGEXECUTE", "LOAD", 1, "a", "|>", "AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT"), "ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"),
    ("plain", ("AI.DAGRUN", "LOAD", 1, "a", "|>", "AI.MODELRUN", "m", "TIMEOUT", 5, "INPUTS", "a", "OUTPUTS", "b"), "ERR TIMEOUT not allowed within a DAG command"),
    ("plain", ("AI.DAGRUN", "LOAD", 1, "a", "|>", "AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "TIMEOUT", 5), "ERR TIMEOUT not allowed within a DAG command"),
    ("plain", ("AI.DAGRUN", "LOAD", 1, "a", "|>", "AI.MODELRUN", "nothere", "INPUTS", "a", "OUTPUTS", "b"), "ERR model key is empty"),
    # --- AI.CONFIG (errors leave the shared server's settings alone)
    ("plain", ("AI.CONFIG", "BACKENDSPATH"), "ERR BACKENDSPATH: missing path argument"),
    ("plain", ("AI.CONFIG", "MODEL_CHUNK_SIZE"), "ERR MODEL_CHUNK_SIZE: missing chunk size"),
    ("plain", ("AI.CONFIG", "MODEL_CHUNK_SIZE", "n"), "ERR MODEL_CHUNK_SIZE: invalid chunk size"),
    ("plain", ("AI.CONFIG", "LOADBACKEND", "BOGUS", "p"), "ERR unsupported backend"),
    ("plain", ("AI.CONFIG", "BOGUS"), "ERR unsupported subcommand"),
]  # fmt: skip


@pytest.fixture(scope="module")
def blobs() -> dict[str, bytes]:
    return {
        TORCH: samples.torch_linear_bytes()[0],
        TORCH2: samples.torch_two_outputs_bytes(),
        TORCH5: _five_inputs_bytes(),
    }


def _setup(client: redis.Redis, blobs: dict[str, bytes]) -> None:
    a = np.ones((1, 10), np.float32)
    client.execute_command("AI.TENSORSET", "a", "FLOAT", 1, 10, "BLOB", a.tobytes())
    client.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blobs[TORCH])
    client.execute_command("AI.MODELSTORE", "m2", "TORCH", "CPU", "BLOB", blobs[TORCH2])
    client.execute_command("AI.MODELSTORE", "m5", "TORCH", "CPU", "BLOB", blobs[TORCH5])
    client.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    client.set("str", "v")


def test_redisai_error_replies(ai_server, ai_client: redis.Redis, blobs) -> None:
    """Every row's command gets exactly RedisAI's error line; all rows are checked, then the
    differences are reported together."""
    _setup(ai_client, blobs)
    raw = Raw(ai_server.host, ai_server.port)
    wrong = []
    try:
        for mode, args, expected in ROWS:
            sent = tuple(blobs.get(a, a) if isinstance(a, str) else a for a in args)
            got = error_line(raw, mode, sent)
            if got != expected:
                shown = tuple(a if len(str(a)) < 40 else "<blob>" for a in args)
                wrong.append(f"{mode} {shown}:\n    got      {got!r}\n    expected {expected!r}")
    finally:
        raw.close()
    assert not wrong, "\n".join(wrong)
    # nothing above stored anything
    assert sorted(ai_client.keys()) == [b"a", b"m", b"m2", b"m5", b"s", b"str"]


@pytest.mark.parametrize("engine", ENGINES)
def test_loadbackend_twice_is_an_error(ai_server_factory, engine: str) -> None:
    """RedisAI loads a backend once: a second LOADBACKEND fails (private server: the first
    one changes its settings)."""
    server = ai_server_factory(engine)
    raw = Raw(server.host, server.port)
    try:
        raw.send("AI.CONFIG", "LOADBACKEND", "TORCH", "libtorch.so")
        assert raw.reply() == "OK"
        raw.send("AI.CONFIG", "LOADBACKEND", "TORCH", "libtorch.so")
        assert raw.reply() == ("error", "ERR error loading backend")
    finally:
        raw.close()


def slow_client(server) -> redis.Redis:
    """A client that waits for a worker's first import of a backend (seconds, more under load)."""
    return redis.Redis(host=server.host, port=server.port, socket_timeout=300)


@pytest.mark.onnx
def test_onnx_gpu_without_cuda(ai_server, ai_client: redis.Redis) -> None:
    import onnxruntime as ort

    ai_client = slow_client(ai_server)
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("onnxruntime has CUDA here")
    blob, _ = samples.onnx_linear_regression()
    with pytest.raises(redis.ResponseError) as info:
        ai_client.execute_command("AI.MODELSTORE", "x", "ONNX", "GPU", "BLOB", blob)
    assert str(info.value) == "GPU requested but ONNX couldn't find CUDA"


@pytest.mark.tf
def test_tf_node_names_and_gpu(ai_server, ai_client: redis.Redis) -> None:
    blob, inp, out, _ = samples.tf_frozen_graph()
    ai_client = slow_client(ai_server)

    def store(device: str, i: str, o: str) -> str:
        with pytest.raises(redis.ResponseError) as info:
            ai_client.execute_command(
                "AI.MODELSTORE", "x", "TF", device, "INPUTS", 1, i, "OUTPUTS", 1, o, "BLOB", blob
            )
        return str(info.value)

    assert store("CPU", "nope", out) == 'Input node named "nope" not found in TF graph.'
    assert store("CPU", inp, "nope") == 'Output node named "nope" not found in TF graph'
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        assert store("GPU", inp, out) == "GPU requested but TF couldn't find CUDA"
