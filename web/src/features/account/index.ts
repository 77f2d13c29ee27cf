// Signing in, the mailed account links (reset, verify) and the person's own profile.
export { ForgotPassword, ResetPassword, VerifyEmail } from './AccountLinks';
export { Profile, TotpEnrolment } from './Profile';
export { SignIn } from './SignIn';
export { explain } from './explain';
