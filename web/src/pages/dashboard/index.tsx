import ComingSoon from "../soon";

export default function Dashboard() {
  return <ComingSoon titleKey="nav.dashboard" />;
}
