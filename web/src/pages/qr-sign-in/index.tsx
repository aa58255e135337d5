import ComingSoon from "../soon";

export default function QrSignIn() {
  return <ComingSoon titleKey="auth.qrTitle" />;
}
