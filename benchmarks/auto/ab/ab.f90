! The A -> B reaction in a stirred tank (the model of AUTO-07p's demo ab; pathtrack_problems'
! ab-reaction): PAR(1) = D = lam, PAR(2) = B, PAR(3) = beta.
SUBROUTINE FUNC(NDIM,U,ICP,PAR,IJAC,F,DFDU,DFDP)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM, ICP(*), IJAC
  DOUBLE PRECISION, INTENT(IN) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(OUT) :: F(NDIM)
  DOUBLE PRECISION, INTENT(INOUT) :: DFDU(NDIM,NDIM), DFDP(NDIM,*)
  DOUBLE PRECISION :: e, r
  e = EXP(U(2))
  r = PAR(1)*(1 - U(1))*e
  F(1) = -U(1) + r
  F(2) = -U(2) + PAR(2)*r - PAR(3)*U(2)
  IF (IJAC == 0) RETURN
  DFDU(1,1) = -1 - PAR(1)*e
  DFDU(1,2) = r
  DFDU(2,1) = -PAR(2)*PAR(1)*e
  DFDU(2,2) = -1 - PAR(3) + PAR(2)*r
  IF (IJAC == 1) RETURN
  DFDP(1,1) = (1 - U(1))*e
  DFDP(2,1) = PAR(2)*(1 - U(1))*e
  DFDP(1,2) = 0
  DFDP(2,2) = r
  DFDP(1,3) = 0
  DFDP(2,3) = -U(2)
END SUBROUTINE FUNC

SUBROUTINE STPNT(NDIM,U,PAR,T)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM
  DOUBLE PRECISION, INTENT(INOUT) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(IN) :: T
  PAR(1) = 0d0
  PAR(2) = 14d0
  PAR(3) = 2d0
  U(1) = 0d0
  U(2) = 0d0
END SUBROUTINE STPNT

INCLUDE 'stubs.inc'
