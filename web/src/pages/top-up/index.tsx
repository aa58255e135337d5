import ComingSoon from "../soon";

export default function TopUp() {
  return <ComingSoon titleKey="nav.topUp" />;
}
