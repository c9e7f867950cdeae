"""Local Tencent Cloud API 3.0 emulator (CVM, CLB, ECM, AS, TDMQ) driven by the unmodified SDK, with
the TDMQ-for-CMQ data plane (API 2.0) on the same port.

    from emulator import Emulator, Knobs
    with Emulator.from_file("emulator/estates/demo.json", knobs=Knobs(task_seconds=0.05)) as emu:
        ...  # HttpProfile(protocol="http", endpoint=emu.host_port)

See ``emulator/README.md`` for the estate format, behaviours and fidelity notes.
"""
from __future__ import annotations

from pathlib import Path

from .core import CallRecord, Emulator
from .errors import ApiError
from .estate import Estate, EstateError
from .faults import Knobs

DEMO_ESTATE = Path(__file__).resolve().parent / "estates" / "demo.json"

__all__ = ["ApiError", "CallRecord", "DEMO_ESTATE", "Emulator", "Estate", "EstateError", "Knobs"]
