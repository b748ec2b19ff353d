"""A broker refusing our credentials or certificate: a setting to fix, reported once, never retried.

librdkafka treats a wrong password or a certificate it cannot verify like any broker outage:
it reports the error through the error callback and reconnects forever. The clients of this
adapter note such an error instead and raise it from their next call as `KafkaRefused`.
"""

from __future__ import annotations

import re
import threading

from ums_find.settings import KafkaSettings

# librdkafka's words for a certificate that failed verification (untrusted CA, another host
# name) and for a broker refusing our client certificate (TLS alerts it sends back).
_CERTIFICATE = ("certificate verify failed",)
_CLIENT_CERTIFICATE = ("alert bad certificate", "alert certificate required", "alert unknown ca")
_AUTHENTICATION = {"_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED"}
# Log lines of librdkafka that only repeat, on every reconnect, what the refusal says once.
REFUSAL_NOISE = (
    "SASL authentication error",
    "SASL authentication failure",
    *_CERTIFICATE,
    *_CLIENT_CERTIFICATE,
)
_AFTER = re.compile(r"\s*\(after [0-9]+ms in state [A-Z_]+\)")
_INSTALL_HINT = re.compile(r",? verify that ssl\.ca\.location .*$")


class KafkaRefused(Exception):
    """The broker refused us for good: wrong credentials, or a certificate not verified. Not transient."""


def refusal_reason(kafka: KafkaSettings, code_name: str, text: str) -> str | None:
    """One line naming what the broker refused and the settings concerned; None if not a refusal."""
    lowered = text.lower()
    if code_name in _AUTHENTICATION:
        why = (
            f"Kafka cannot authenticate as {kafka.username!r} ({kafka.sasl_mechanism}): wrong user or"
            " password, or a mechanism the broker does not offer (UMS_KAFKA_USERNAME,"
            " UMS_KAFKA_PASSWORD or UMS_KAFKA_PASSWORD_FILE, UMS_KAFKA_SASL_MECHANISM)"
        )
    elif any(marker in lowered for marker in _CERTIFICATE):
        trusted = kafka.ca_file or "the system's CAs"
        why = (
            f"Kafka TLS refused: the broker's certificate is not trusted by {trusted} (UMS_KAFKA_CA_FILE)"
            f" or does not name the host of UMS_KAFKA_BOOTSTRAP={kafka.bootstrap}"
        )
    elif any(marker in lowered for marker in _CLIENT_CERTIFICATE):
        why = (
            "Kafka TLS refused: the broker did not accept the client certificate, or wants one"
            " (UMS_KAFKA_CERT_FILE, UMS_KAFKA_KEY_FILE)"
        )
    else:
        return None
    return f"{why} [{_short(text)}]"


def _short(text: str) -> str:
    return _INSTALL_HINT.sub("", _AFTER.sub("", text)).strip()


class Refusals:
    """What the error callback of one client saw: its refusal, until a call succeeds again."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._secret = kafka.password.reveal()
        self._lock = threading.Lock()
        self.reason: str | None = None

    def note(self, code_name: str, text: str) -> bool:
        """Keep the error if it is a refusal; whether it was one or follows one (then it is no news)."""
        reason = refusal_reason(self._kafka, code_name, text)
        with self._lock:
            if reason is not None:
                self.reason = self._scrubbed(reason)
            return self.reason is not None

    def _scrubbed(self, text: str) -> str:
        # librdkafka never prints the password; this guards against one that ever would.
        return text.replace(self._secret, "***") if self._secret else text

    def check(self) -> None:
        """Raise KafkaRefused if the broker refused this client."""
        reason = self.reason
        if reason is not None:
            raise KafkaRefused(reason)

    def clear(self) -> None:
        """The broker answered: whatever it refused before (a user created since) is over."""
        with self._lock:
            self.reason = None
