"""Dashboard URLs: tenant pages under /tenants/<id>/, entity pages under /entities/<id>/.

Each page's view is dashboard/views/<page>.py; what it reads is dashboard/queries/<page>.py."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views import (
    contradictions,
    entities,
    gaps,
    graph,
    memory,
    overview,
    playground,
    processes,
    sessions,
    thread,
    timeline,
)

app_name = "dashboard"

urlpatterns = [
    path("", overview.home, name="home"),
    # For members who are not staff (the admin login only admits staff); LOGIN_URL may point here.
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path("tenants/<int:tenant_id>/", overview.overview, name="overview"),
    path("tenants/<int:tenant_id>/live/", overview.overview_live, name="overview_live"),
    path("tenants/<int:tenant_id>/entities/", entities.entity_list, name="entities"),
    path("tenants/<int:tenant_id>/playground/", playground.playground, name="playground"),
    path("entities/<int:entity_id>/", entities.entity_home, name="entity"),
    path("entities/<int:entity_id>/graph/", graph.graph, name="graph"),
    path("entities/<int:entity_id>/graph/nodes/<int:node_id>/", graph.graph_node, name="graph_node"),
    path("entities/<int:entity_id>/processes/", processes.process_view, name="processes"),
    path("entities/<int:entity_id>/timeline/", timeline.timeline, name="timeline"),
    path("entities/<int:entity_id>/sessions/", sessions.session_list, name="sessions"),
    path("entities/<int:entity_id>/thread/", thread.thread, name="thread"),
    path("entities/<int:entity_id>/thread/live/", thread.thread_live, name="thread_live"),
    path("entities/<int:entity_id>/gaps/", gaps.handoff_gaps, name="gaps"),
    path("entities/<int:entity_id>/contradictions/", contradictions.contradiction_list, name="contradictions"),
    path(
        "contradictions/<int:contradiction_id>/resolve/",
        contradictions.contradiction_resolve,
        name="contradiction_resolve",
    ),
    path("sessions/<int:session_id>/", sessions.session_detail, name="session"),
    path("sessions/<int:session_id>/live/", sessions.session_live, name="session_live"),
    path("memories/<int:memory_id>/", memory.memory_detail, name="memory"),
    path("memories/<int:memory_id>/edit/", memory.memory_edit, name="memory_edit"),
    path("memories/<int:memory_id>/delete/", memory.memory_remove, name="memory_delete"),
    path("memories/<int:memory_id>/restore/", memory.memory_restore_current, name="memory_restore"),
]
