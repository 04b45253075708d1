"""Structured logs and EMF metrics (Powertools), wired into Chalice as middleware.

Every log line carries the request id and, where known, the store id; metrics are flushed
once per invocation.  Raw payloads are never logged: they hold personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger(service="aftercare")
metrics = Metrics(namespace="Aftercare", service="aftercare")

__all__ = ["MetricUnit", "count", "event_middleware", "http_middleware", "logger", "metrics"]


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Add to a metric; dimensions (e.g. source, reason) make a metric set of their own."""
    if dimensions:
        if is_metrics_disabled():  # honoured by Metrics itself, but not by single_metric
            return
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace="Aftercare") as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)
        return
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _flush() -> None:
    if metrics.metric_set:
        metrics.flush_metrics()


def http_middleware(reshape: Callable[[Any], Any]) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def middleware(request: Any, get_response: Callable[[Any], Any]) -> Any:
        context = getattr(request, "context", None) or {}
        params = getattr(request, "uri_params", None) or {}
        logger.append_keys(
            request_id=context.get("requestId"), store_id=params.get("store_id"), path=context.get("resourcePath")
        )
        try:
            response = reshape(get_response(request))
            logger.info("request", extra={"method": getattr(request, "method", None), "status": response.status_code})
            return response
        finally:
            logger.remove_keys(["request_id", "store_id", "path"])
            _flush()

    return middleware


def event_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    context = getattr(event, "context", None)
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    try:
        return get_response(event)
    finally:
        logger.remove_keys(["request_id"])
        _flush()
