"""Pages managers browse. Views stay thin: they call a query and render."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from clients.models import RejectedRecord
from clients.portfolio import portfolio_summary


@login_required
def home(request):
    summary = portfolio_summary()
    context = {
        "summary": summary,
        "open_rejects": RejectedRecord.objects.filter(resolved=False).count(),
        "home_currency": settings.HOME_CURRENCY,
    }
    return render(request, "insights/home.html", context)
