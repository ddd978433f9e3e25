from tenants.rls import indexes_and_policies

ID = "2026-12-06T05:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the QC history a handover hands on: QA's decisions follow their documents"

# QA's decisions on a document are read with the document (the scoping
# layer's DocumentReview.supplier_share and supplier_parents): the incoming
# supplier reads those on the documents a handover granted it, and the
# outgoing one loses those on the documents it lost. The subquery on
# document is itself under document's policies, so it is exactly the
# documents the supplier reads.
QC_HISTORY = """
DROP POLICY IF EXISTS handover_granted ON document_review;
CREATE POLICY handover_granted ON document_review FOR SELECT USING (
  portal_tenant_ok(tenant) AND portal_as_supplier() AND document IN (SELECT id FROM document));
DROP POLICY IF EXISTS handover_revoked ON document_review;
CREATE POLICY handover_revoked ON document_review AS RESTRICTIVE USING (
  NOT portal_as_supplier() OR document IN (SELECT id FROM document));
"""

forwards = indexes_and_policies("handover", ID, DESCRIPTION, [], QC_HISTORY)
