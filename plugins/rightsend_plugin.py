"""Registers rightsend's template macros with Airflow."""

from airflow.plugins_manager import AirflowPlugin

from rightsend.dag_defaults import run_date_macro


def rightsend_run_date(dag_run, triggering_asset_events=None) -> str:
    """`{{ macros.rightsend_plugin.rightsend_run_date(dag_run, triggering_asset_events) }}`"""
    return run_date_macro(dag_run, triggering_asset_events)


class RightsendPlugin(AirflowPlugin):
    name = "rightsend_plugin"
    macros = [rightsend_run_date]
