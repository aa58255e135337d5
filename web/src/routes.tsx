import { lazy } from "react";
import { Navigate, Outlet, createBrowserRouter, useLocation } from "react-router-dom";
import { AppLayout, PageLoader } from "./layout/AppLayout";
import { PublicLayout } from "./layout/PublicLayout";
import { useAuth } from "./auth/AuthProvider";
import { staffRoutes } from "./staff/routes";

// One folder per screen under pages/, each its own chunk: the first visit loads the shell only.
const SignIn = lazy(() => import("./pages/sign-in"));
const Register = lazy(() => import("./pages/register"));
const QrSignIn = lazy(() => import("./pages/qr-sign-in"));
const Dashboard = lazy(() => import("./pages/dashboard"));
const TopUp = lazy(() => import("./pages/top-up"));
const Transactions = lazy(() => import("./pages/transactions"));
const Services = lazy(() => import("./pages/services"));
const Invoices = lazy(() => import("./pages/invoices"));
const InvoiceDetail = lazy(() => import("./pages/invoices/detail"));
const Account = lazy(() => import("./pages/account"));
const AcceptInvitation = lazy(() => import("./pages/invitation"));
const Support = lazy(() => import("./pages/support"));
const NewTicket = lazy(() => import("./pages/support/new"));
const TicketDetail = lazy(() => import("./pages/support/detail"));
const Repairs = lazy(() => import("./pages/repairs"));
const NewRepair = lazy(() => import("./pages/repairs/new"));
const RepairDetail = lazy(() => import("./pages/repairs/detail"));
const NotFound = lazy(() => import("./pages/not-found"));
const ForgotPassword = lazy(() => import("./pages/forgot-password"));
const ResetPassword = lazy(() => import("./pages/reset-password"));
const VerifyEmail = lazy(() => import("./pages/verify-email"));

function RequireAuth() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "restoring") return <PageLoader />;
  if (status === "anonymous") {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}

function AnonymousOnly() {
  const { status, isStaff } = useAuth();
  const location = useLocation();
  if (status === "restoring") return <PageLoader />;
  if (status === "signed-in") {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from.startsWith("/") ? from : isStaff ? "/staff" : "/"} replace />;
  }
  return <Outlet />;
}

export const router = createBrowserRouter([
  // Whoever opens a mailed invitation, signed in or not: accepting signs them in as the invitee.
  // Mailed links work signed in or not (they may be opened on another device).
  {
    element: <PublicLayout />,
    children: [
      { path: "/invitations/:token", element: <AcceptInvitation /> },
      { path: "/verify-email", element: <VerifyEmail /> },
      { path: "/reset-password", element: <ResetPassword /> },
    ],
  },
  {
    element: <AnonymousOnly />,
    children: [
      {
        element: <PublicLayout />,
        children: [
          { path: "/login", element: <SignIn /> },
          { path: "/login/qr", element: <QrSignIn /> },
          { path: "/register", element: <Register /> },
          { path: "/forgot-password", element: <ForgotPassword /> },
        ],
      },
    ],
  },
  {
    element: <RequireAuth />,
    children: [
      staffRoutes,
      {
        element: <AppLayout />,
        children: [
          { path: "/", element: <Dashboard /> },
          { path: "/top-up", element: <TopUp /> },
          { path: "/transactions", element: <Transactions /> },
          { path: "/services", element: <Services /> },
          { path: "/invoices", element: <Invoices /> },
          { path: "/invoices/:invoiceId", element: <InvoiceDetail /> },
          { path: "/support", element: <Support /> },
          { path: "/support/new", element: <NewTicket /> },
          { path: "/support/:ticketId", element: <TicketDetail /> },
          { path: "/repairs", element: <Repairs /> },
          { path: "/repairs/new", element: <NewRepair /> },
          { path: "/repairs/:repairId", element: <RepairDetail /> },
          { path: "/account", element: <Account /> },
          { path: "*", element: <NotFound /> },
        ],
      },
    ],
  },
]);
