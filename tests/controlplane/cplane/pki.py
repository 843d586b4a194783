"""Self-generated certificates for the loopback cluster: a CA, the apiserver's serving cert,
client certs per identity, the service-account key pair, and kubeconfigs embedding them."""
from __future__ import annotations

import base64
import datetime
import ipaddress
import os

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


VALID_FOR = datetime.timedelta(days=3650)
SERVING_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local")
SERVING_IPS = ("127.0.0.1", "10.0.0.1")  # loopback and the `kubernetes` Service IP of 10.0.0.0/24


def _write(path: str, data: bytes, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with open(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)


def name(common_name: str, organization: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


class Pki:
    """All files live in ``directory``; ``create()`` is a no-op when the CA already exists."""

    def __init__(self, directory: str):
        self.dir = directory

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def create(self, client_identities: dict, serving_ips: tuple = ()) -> None:
        """``client_identities``: file stem -> (common name, organization or None); ``serving_ips``:
        addresses the apiserver serves on besides loopback (the real node's host-side address)."""
        if os.path.exists(self.path("ca.crt")):
            return
        ca_cert, ca_key = self._new_ca("argoops-test-ca")
        self.issue("apiserver", name("kube-apiserver"), server=True, names=SERVING_NAMES,
                   ips=SERVING_IPS + tuple(serving_ips), ca=(ca_cert, ca_key))
        for stem, (common_name, organization) in client_identities.items():
            self.issue(stem, name(common_name, organization), ca=(ca_cert, ca_key))
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(self.path("sa.key"), _key_pem(sa_key), private=True)
        _write(self.path("sa.pub"), sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        _write(self.path("ca.crt"), ca_cert.public_bytes(serialization.Encoding.PEM))  # last: marks completion

    def create_serving(self, stem: str, common_name: str, names=(), ips=()) -> None:
        """A CA of its own and one serving certificate ``stem``.crt/.key (PostgreSQL's TLS); a no-op
        when the CA exists."""
        if os.path.exists(self.path("ca.crt")):
            return
        ca_cert, ca_key = self._new_ca(common_name + "-ca")
        self.issue(stem, name(common_name), server=True, names=names, ips=ips, ca=(ca_cert, ca_key))
        _write(self.path("ca.crt"), ca_cert.public_bytes(serialization.Encoding.PEM))  # last: marks completion

    def _new_ca(self, common_name: str):
        os.makedirs(self.dir, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = name(common_name)
        now = _now()
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + VALID_FOR)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        _write(self.path("ca.key"), _key_pem(ca_key), private=True)
        return ca_cert, ca_key

    def _ca(self):
        with open(self.path("ca.crt"), "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(self.path("ca.key"), "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        return cert, key

    def issue(self, stem: str, subject: x509.Name, server: bool = False, names=(), ips=(), ca=None) -> None:
        """``stem``.crt/.key signed by the CA: a client certificate, or (``server``) a serving one."""
        ca_cert, ca_key = ca or self._ca()
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + VALID_FOR)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        _write(self.path(stem + ".crt"), cert.public_bytes(serialization.Encoding.PEM))
        _write(self.path(stem + ".key"), _key_pem(key), private=True)

    def kubeconfig(self, stem: str, server: str, path: str) -> str:
        """A kubeconfig for the identity ``stem`` with certificates embedded (mode 0600)."""
        def b64(name: str) -> str:
            with open(self.path(name), "rb") as handle:
                return base64.b64encode(handle.read()).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "argoops-local",
            "clusters": [{"name": "argoops-local", "cluster": {
                "server": server, "certificate-authority-data": b64("ca.crt")}}],
            "users": [{"name": stem, "user": {
                "client-certificate-data": b64(stem + ".crt"), "client-key-data": b64(stem + ".key")}}],
            "contexts": [{"name": "argoops-local", "context": {"cluster": "argoops-local", "user": stem}}],
        }
        _write(path, yaml.safe_dump(config, sort_keys=False).encode(), private=True)
        return path
