"""Every route handler of the app, one line per domain, for the factory and
for the isolation test matrix (which walks the app's route table)."""

from __future__ import annotations

from typing import Any

from portal import health, metrics, pages, pwa
from portal.approvals.api import ApprovalApi, ApprovalRuleApi
from portal.approvals.pages import ApprovalPages
from portal.audit.controllers import AuditApi, AuditPages
from portal.configuration.api import DocumentCategoryApi, ItemToleranceApi, ToleranceApi
from portal.configuration.pages import SettingsPages
from portal.conversations.controllers import ConversationPages, ThreadApi
from portal.deliveries.api import DeliveryApi
from portal.deliveries.pages import DeliveryPages
from portal.deliveries.transfer import DeliveryExportApi, DeliveryExportPages
from portal.documents.controllers import DocumentApi, DocumentPages
from portal.handover.api import HandoverApi, HandoverTemplateApi
from portal.handover.pages import HandoverPages, HandoverTemplatePages
from portal.items.controllers import ItemApi
from portal.items.pages import ItemPages
from portal.items.transfer import ItemExportApi, ItemExportPages
from portal.jobs.pages import JobPages
from portal.labels.pages import LabelPages
from portal.materials.api import DispatchApi, MaterialBalanceApi, MaterialReturnApi, MaterialScrapApi
from portal.materials.pages import DispatchFormPages, MaterialPages
from portal.materials.transfer_api import MaterialTransferApi
from portal.materials.transfer_pages import MaterialTransferPages
from portal.notifications.api import NotificationApi, WebhookApi
from portal.notifications.chat_routes import ChatRobotApi, ChatRobotPages
from portal.notifications.pages import NotificationPages
from portal.notifications.webhook_pages import WebhookPages
from portal.orders.api import OrderApi
from portal.orders.pages import InboxPages, OrderPages
from portal.orders.transfer_api import OrderTransferApi
from portal.orders.transfer_pages import OrderTransferPages
from portal.progress.api import ProgressApi, ProgressStageApi
from portal.progress.pages import ProgressPages, StagePages
from portal.quality.api import (
    DocumentReviewApi,
    ItemQcTemplateApi,
    LotTraceApi,
    OrderQcApi,
    QcRequirementApi,
    RejectReasonApi,
    ScorecardApi,
)
from portal.quality.lot_use_routes import LotUseApi, LotUsePages
from portal.quality.ncr_api import NcrApi, NcrSettingsApi
from portal.quality.ncr_pages import LotTracePages, NcrPages, NcrSettingsPages, ScorecardPages
from portal.quality.pages import QualityPages, RejectReasonPages
from portal.reconciliation.api import MaterialPriceApi, ReconciliationSettingsApi, StatementAdjustmentApi, StatementApi
from portal.reconciliation.pages import StatementPages
from portal.sla.api import ResponseRuleApi, ResponseRulePages
from tenants.routes import tenant_routes


def domain_routes() -> list[Any]:
    return [
        health.health,
        metrics.metrics,
        pages.show_home,
        pages.switch_locale,
        pwa.service_worker,
        pwa.manifest,
        pwa.offline,
        *tenant_routes(),
        AuditPages,
        AuditApi,
        NotificationApi,
        NotificationPages,
        ChatRobotApi,
        ChatRobotPages,
        WebhookPages,
        JobPages,
        WebhookApi,
        ResponseRuleApi,
        ResponseRulePages,
        ToleranceApi,
        ItemToleranceApi,
        DocumentCategoryApi,
        SettingsPages,
        ApprovalRuleApi,
        ApprovalApi,
        ApprovalPages,
        LabelPages,
        DocumentPages,
        DocumentApi,
        ItemApi,
        ItemPages,
        ItemExportApi,
        ItemExportPages,
        OrderApi,
        OrderPages,
        InboxPages,
        OrderTransferApi,
        OrderTransferPages,
        DeliveryApi,
        DeliveryPages,
        DeliveryExportApi,
        DeliveryExportPages,
        DispatchApi,
        MaterialReturnApi,
        MaterialScrapApi,
        MaterialBalanceApi,
        DispatchFormPages,
        MaterialPages,
        MaterialTransferApi,
        MaterialTransferPages,
        ProgressApi,
        ProgressStageApi,
        ProgressPages,
        StagePages,
        QcRequirementApi,
        OrderQcApi,
        DocumentReviewApi,
        QualityPages,
        ThreadApi,
        ConversationPages,
        ItemQcTemplateApi,
        RejectReasonApi,
        RejectReasonPages,
        NcrApi,
        ScorecardApi,
        NcrSettingsApi,
        NcrPages,
        NcrSettingsPages,
        ScorecardPages,
        LotTraceApi,
        LotTracePages,
        LotUseApi,
        LotUsePages,
        StatementApi,
        StatementAdjustmentApi,
        ReconciliationSettingsApi,
        MaterialPriceApi,
        StatementPages,
        HandoverApi,
        HandoverTemplateApi,
        HandoverPages,
        HandoverTemplatePages,
    ]
