import { lazy } from "react";
import { Outlet, type RouteObject } from "react-router-dom";
import { useAuth } from "../auth/AuthProvider";
import { isStaff } from "./access";
import { StaffLayout } from "./StaffLayout";
import NotAllowed from "./NotAllowed";

const Dashboard = lazy(() => import("./pages/dashboard"));
const Tickets = lazy(() => import("./pages/tickets"));
const TicketDetail = lazy(() => import("./pages/tickets/detail"));
const Repairs = lazy(() => import("./pages/repairs"));
const RepairDetail = lazy(() => import("./pages/repairs/detail"));
const Billing = lazy(() => import("./pages/billing"));
const Crm = lazy(() => import("./pages/crm"));
const CrmContact = lazy(() => import("./pages/crm/detail"));
const Care = lazy(() => import("./pages/care"));
const NotFound = lazy(() => import("../pages/not-found"));

/** Staff only: a customer gets "not allowed" (never a staff screen that would fail call by call). */
function RequireStaff() {
  const { profile } = useAuth();
  return isStaff(profile) ? <Outlet /> : <NotAllowed />;
}

/** Everything under /staff; mounted inside the signed-in part of the router. */
export const staffRoutes: RouteObject = {
  path: "/staff",
  element: <RequireStaff />,
  children: [
    {
      element: <StaffLayout />,
      children: [
        { index: true, element: <Dashboard /> },
        { path: "tickets", element: <Tickets /> },
        { path: "tickets/:ticketId", element: <TicketDetail /> },
        { path: "repairs", element: <Repairs /> },
        { path: "repairs/:repairId", element: <RepairDetail /> },
        { path: "billing", element: <Billing /> },
        { path: "crm", element: <Crm /> },
        { path: "crm/:contactId", element: <CrmContact /> },
        { path: "care", element: <Care /> },
        { path: "*", element: <NotFound /> },
      ],
    },
  ],
};
