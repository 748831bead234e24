package sample

import (
	"strings"
	"time"
)

// The certificate inventory.

var certificatesProfile = &profile{
	exportName: "CertificateAssessmentExport",
	perDevice:  3,
	quirks:     append(append([]quirk(nil), typedQuirks...), quirkDocNames),
	nullable:   "ExtendedKeyUsage",
	timeKey:    "ExpirationDate",
	numberKey:  "KeySize",
	escapesKey: "IssuedTo",
	// The documentation's example names these fields otherwise.
	docNames: map[string]string{
		"KeySize": "KeyLength", "ExpirationDate": "NotAfter", "IssueDate": "NotBefore",
	},
	newState: func() deviceState { return &certState{} },
}

// certKind is a certificate a device may hold.
type certKind struct {
	path, algorithm, subjectType string
	keySize                      int
	issuer                       string // "" for self-signed
	subject                      string // "" for the device's name
	keyUsage, extended           string
	years                        int // validity
	weak                         bool
}

var certKinds = []certKind{
	{`LocalMachine\My`, "sha256RSA", "End entity", 2048, "CN=Contoso Issuing CA 01, DC=corp, DC=contoso, DC=com", "",
		"Digital Signature, Key Encipherment", "Client Authentication, Server Authentication", 1, false},
	{`LocalMachine\Root`, "sha256RSA", "CA", 4096, "", "CN=Contoso Root CA, O=Contoso Ltd, C=US",
		"Certificate Signing, Off-line CRL Signing, CRL Signing", "", 20, false},
	{`LocalMachine\My`, "sha1RSA", "End entity", 1024, "", "CN=localhost",
		"Key Encipherment, Data Encipherment", "Server Authentication", 5, true},
	{`LocalMachine\My`, "sha256ECDSA", "End entity", 256, "CN=Fabrikam TLS CA 2022, O=Fabrikam, C=US", "",
		"Digital Signature", "Server Authentication", 2, false},
	{`LocalMachine\CA`, "sha384RSA", "CA", 3072, "CN=Contoso Root CA, O=Contoso Ltd, C=US", "CN=Contoso Issuing CA 01, DC=corp, DC=contoso, DC=com",
		"Certificate Signing, CRL Signing", "", 10, false},
}

// certState is one device's certificates.
type certState struct {
	kinds   []int
	issued  []time.Time
	prints  [][]byte
	serials [][]byte
}

func (s *certState) reset(r *rng, d *device) {
	s.kinds, s.issued = s.kinds[:0], s.issued[:0]
	s.prints, s.serials = s.prints[:0], s.serials[:0]
	for j, i := range drawDistinct(r, 3, len(certKinds)) {
		s.kinds = append(s.kinds, i)
		ago := time.Duration(r.between(10, 3*365)) * 24 * time.Hour
		at := d.seen.Add(-ago).Truncate(time.Second)
		if j == 2 && r.chance(60) {
			at = time.Time{} // the service reports 0001-01-01
		}
		s.issued = append(s.issued, at)
		s.prints = append(s.prints, []byte(strings.ToUpper(string(r.appendHex(nil, 40)))))
		s.serials = append(s.serials, r.appendHex(nil, 32))
	}
}

func (s *certState) record(w *recordWriter, d *device, k int) {
	i := k % len(s.kinds)
	c := &certKinds[s.kinds[i]]
	subject := c.subject
	if subject == "" {
		subject = "CN=" + d.name
	}
	issuer := c.issuer
	if issuer == "" {
		issuer = subject
	}
	issued := s.issued[i]
	expires := issued.AddDate(c.years, 0, 0)
	if issued.IsZero() {
		expires = issued
	}

	w.str("Thumbprint", string(s.prints[i]))
	w.str("Path", c.path)
	w.str("SignatureAlgorithm", c.algorithm)
	w.integer("KeySize", c.keySize)
	w.time("ExpirationDate", expires, isoTime)
	w.time("IssueDate", issued, isoTime)
	w.str("SubjectType", c.subjectType)
	w.key("SerialNumber")
	w.b = appendStringBytes(w.b, s.serials[i])
	w.str("IssuedTo", subject)
	w.str("IssuedBy", issuer)
	w.str("KeyUsage", c.keyUsage)
	w.optStr("ExtendedKeyUsage", c.extended)
	if w.quirk == quirkDocNames {
		w.boolean("IsSelfSigned", c.issuer == "")
	}
}
